package org.visualccc.fiji;

import ij.ImagePlus;
import ij.gui.Roi;
import ij.measure.Calibration;
import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import org.visualccc.Clustering;
import org.visualccc.DataBar;
import org.visualccc.Thresholding;
import org.visualccc.Thresholds;

import java.awt.Rectangle;

/**
 * The pixels of an image inside its non-rectangular area selection (oval, polygon,
 * freehand, composite...), so that area results count only those. The analysis itself runs
 * on the whole image (for commands: the selection's bounding rectangle); then label images
 * mark outside pixels {@value #OUTSIDE_LABEL} ({@link Thresholding#OUTSIDE_LABEL}) and
 * 32-bit maps NaN, and pixel counts, fractions and areas are of inside pixels only.
 */
final class SelectionMask {
    /** Label of pixels outside the selection in label images (white in the label LUT). */
    static final int OUTSIDE_LABEL = Thresholding.OUTSIDE_LABEL;

    private final int width;
    private final int height;
    private final boolean[] inside;
    private final int insideCount;

    private SelectionMask(int width, int height, boolean[] inside, int insideCount) {
        this.width = width;
        this.height = height;
        this.inside = inside;
        this.insideCount = insideCount;
    }

    /**
     * The mask of {@code imp}'s area selection when it is not a plain rectangle, else null
     * (the whole image counts).
     *
     * @throws IllegalArgumentException if the selection holds no pixel of the image
     */
    static SelectionMask of(ImagePlus imp) {
        Roi roi = imp.getRoi();
        ImageProcessor roiMask = roi == null || !roi.isArea() ? null : roi.getMask();
        if (roiMask == null) {
            return null;
        }
        int width = imp.getWidth();
        int height = imp.getHeight();
        Rectangle bounds = roi.getBounds();
        boolean[] inside = new boolean[width * height];
        int count = 0;
        for (int y = Math.max(0, -bounds.y); y < bounds.height && bounds.y + y < height; y++) {
            for (int x = Math.max(0, -bounds.x); x < bounds.width && bounds.x + x < width; x++) {
                if (roiMask.get(x, y) != 0) {
                    inside[(bounds.y + y) * width + bounds.x + x] = true;
                    count++;
                }
            }
        }
        if (count == 0) {
            throw new IllegalArgumentException("the selection holds no pixel of the image");
        }
        return new SelectionMask(width, height, inside, count);
    }

    /**
     * {@code selection} (null: the whole image) without the {@code bar}'s rows of
     * {@code ip}, or {@code selection} itself when the bar is empty.
     *
     * @throws IllegalArgumentException if no selected pixel is left
     */
    static SelectionMask withoutDataBar(SelectionMask selection, ImageProcessor ip, DataBar bar) {
        if (bar.excludedRows() == 0) {
            return selection;
        }
        int width = ip.getWidth();
        int height = ip.getHeight();
        boolean[] inside = new boolean[width * height];
        int count = 0;
        for (int y = bar.topRows(); y < height - bar.bottomRows(); y++) {
            for (int x = 0; x < width; x++) {
                int i = y * width + x;
                if (selection == null || selection.inside[i]) {
                    inside[i] = true;
                    count++;
                }
            }
        }
        if (count == 0) {
            throw new IllegalArgumentException("the selection lies entirely in the data bar");
        }
        return new SelectionMask(width, height, inside, count);
    }

    /** Number of pixels inside the selection. */
    int insideCount() {
        return insideCount;
    }

    /**
     * Otsu thresholds of the pixels of {@code ip} inside the selection only (the other
     * pixels play no part), with every inside pixel labelled and the others
     * {@value #OUTSIDE_LABEL}.
     */
    Thresholding threshold(ImageProcessor ip, int classes) {
        checkSize(ip);
        // The inside pixels as one row of the same type, so the histogram is built as usual.
        ImageProcessor row = ip.createProcessor(insideCount, 1);
        for (int i = 0, j = 0; i < inside.length; i++) {
            if (inside[i]) {
                row.set(j++, 0, ip.get(i));
            }
        }
        double[] thresholds = Thresholds.thresholds(row, classes);
        byte[] labels = Thresholds.apply(ip, thresholds);
        for (int i = 0; i < inside.length; i++) {
            if (!inside[i]) {
                labels[i] = (byte) OUTSIDE_LABEL;
            }
        }
        return new Thresholding(thresholds, labels, width, height);
    }

    /**
     * {@code clustering} with outside pixels labelled {@value #OUTSIDE_LABEL} and pixel
     * counts, fractions and areas (with {@code calibration}) of inside pixels only. Means
     * and inertia stay those of the clustering (fitted on the whole analysed rectangle).
     */
    Clustering restrict(Clustering clustering, Calibration calibration) {
        byte[] labels = clustering.labels();
        if (labels.length != inside.length) {
            throw new IllegalArgumentException("the clustering is not " + width + "x" + height);
        }
        int k = clustering.clusterCount();
        long[] counts = new long[k];
        for (int i = 0; i < labels.length; i++) {
            if (inside[i]) {
                counts[labels[i] & 0xff]++;
            } else {
                labels[i] = (byte) OUTSIDE_LABEL;
            }
        }
        int features = clustering.featureNames().length;
        double[] fractions = new double[k];
        double[] areas = new double[k];
        double[] meanGrey = new double[k];
        double[] featureMeans = new double[k * features];
        for (int c = 0; c < k; c++) {
            fractions[c] = counts[c] / (double) insideCount;
            areas[c] = counts[c] * CommandSupport.pixelArea(calibration);
            meanGrey[c] = clustering.meanGrey(c);
            for (int f = 0; f < features; f++) {
                featureMeans[c * features + f] = clustering.featureMean(c, f);
            }
        }
        return new Clustering(labels, width, height, clustering.featureNames(), counts, fractions, areas, meanGrey,
                featureMeans, clustering.inertia(), clustering.sampleSize(), clustering.unit());
    }

    /**
     * Labels the pixels of the 0/1 image {@code labels} outside the selection
     * {@value #OUTSIDE_LABEL} and returns the fraction of inside pixels labelled 1.
     */
    double restrictBinary(ImageProcessor labels) {
        checkSize(labels);
        byte[] values = (byte[]) labels.getPixels();
        long above = 0;
        for (int i = 0; i < values.length; i++) {
            if (!inside[i]) {
                values[i] = (byte) OUTSIDE_LABEL;
            } else if (values[i] == 1) {
                above++;
            }
        }
        return above / (double) insideCount;
    }

    /** Sets the pixels of {@code map} outside the selection to NaN. */
    void clearOutside(FloatProcessor map) {
        checkSize(map);
        float[] pixels = (float[]) map.getPixels();
        for (int i = 0; i < pixels.length; i++) {
            if (!inside[i]) {
                pixels[i] = Float.NaN;
            }
        }
    }

    private void checkSize(ImageProcessor ip) {
        if (ip.getWidth() != width || ip.getHeight() != height) {
            throw new IllegalArgumentException(ip.getWidth() + "x" + ip.getHeight() + " is not the selection's image ("
                    + width + "x" + height + ")");
        }
    }
}
