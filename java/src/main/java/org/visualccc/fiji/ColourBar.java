package org.visualccc.fiji;

import ij.ImagePlus;
import ij.gui.ImageRoi;
import ij.gui.Overlay;
import ij.gui.Roi;
import ij.gui.TextRoi;
import ij.process.FloatProcessor;

import java.awt.Color;
import java.awt.Font;

/**
 * The legend of a heat-map overlay: a vertical bar of the heat-map colours from 1 (top) to
 * 0 (bottom), labelled {@code 1} and {@code 0}, in the image's top-right corner, shown on
 * every slice. Its overlay items are named {@code <overlay name>}{@value #SUFFIX}, so that
 * redoing the overlay (which removes items by name prefix) removes them too.
 */
public final class ColourBar {
    /** Suffix of the names of the colour bar's overlay items. */
    public static final String SUFFIX = " colour bar";

    private ColourBar() {
    }

    /**
     * Adds the colour bar to {@code imp}'s overlay if it holds heat-map items named
     * {@code overlayName} (otherwise there is nothing to explain), replacing an earlier one.
     *
     * @return whether a colour bar was added
     */
    public static boolean add(ImagePlus imp, String overlayName) {
        Overlay overlay = imp.getOverlay();
        if (overlay == null) {
            return false;
        }
        String name = overlayName + SUFFIX;
        boolean heatmap = false;
        for (int i = overlay.size() - 1; i >= 0; i--) {
            String item = overlay.get(i).getName();
            if (name.equals(item)) {
                overlay.remove(i);
            } else if (item != null && item.startsWith(overlayName)) {
                heatmap = true;
            }
        }
        if (!heatmap) {
            return false;
        }
        int width = imp.getWidth();
        int height = imp.getHeight();
        int barHeight = Math.max(20, height / 3);
        int barWidth = Math.max(4, barHeight / 10);
        int fontSize = Math.max(9, barHeight / 8);
        int margin = Math.max(2, Math.min(width, height) / 50);
        Font font = new Font("SansSerif", Font.BOLD, fontSize);
        TextRoi one = label("1", font);
        TextRoi zero = label("0", font);
        int labelX = Math.max(0, width - margin - Math.max(one.getBounds().width, zero.getBounds().width));
        int x = Math.max(0, labelX - 1 - barWidth);
        FloatProcessor ramp = new FloatProcessor(barWidth, barHeight);
        for (int y = 0; y < barHeight; y++) {
            for (int col = 0; col < barWidth; col++) {
                ramp.setf(col, y, 1f - y / (float) (barHeight - 1));
            }
        }
        ImageRoi bar = new ImageRoi(x, margin, ClassifyMorphology.colourise(ramp, ClassifyMorphology.heatLut()));
        one.setLocation(labelX, margin);
        zero.setLocation(labelX, Math.max(margin, margin + barHeight - zero.getBounds().height));
        overlay.add(named(bar, name));
        overlay.add(named(one, name));
        overlay.add(named(zero, name));
        imp.setOverlay(overlay);
        return true;
    }

    private static TextRoi label(String text, Font font) {
        TextRoi label = new TextRoi(0, 0, text, font);
        label.setStrokeColor(Color.white);
        label.setFillColor(new Color(0, 0, 0, 160));
        label.setAntiAlias(true);
        return label;
    }

    private static Roi named(Roi roi, String name) {
        roi.setName(name);
        return roi;
    }
}
