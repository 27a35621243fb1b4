package org.visualccc.fiji;

import ij.ImagePlus;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import org.visualccc.Clustering;
import org.visualccc.DataBar;

import java.awt.Rectangle;

/**
 * Running an analysis on the rows a {@link DataBar} keeps and bringing its outputs back to
 * the whole slice: label images get {@value SelectionMask#OUTSIDE_LABEL} and maps NaN in
 * the excluded rows, counts stay those of the kept rows.
 */
final class DataBarRows {
    private DataBarRows() {
    }

    /** The kept rows of {@code ip} (itself when nothing is excluded). */
    static ImageProcessor kept(ImageProcessor ip, DataBar bar) {
        if (bar.excludedRows() == 0) {
            return ip;
        }
        ip.setRoi(0, bar.topRows(), ip.getWidth(), ip.getHeight() - bar.excludedRows());
        ImageProcessor kept = ip.crop();
        ip.resetRoi();
        return kept;
    }

    /**
     * The kept rows of every slice of {@code imp} as a new image (itself when nothing is
     * excluded), like the bounding rectangle of a selection.
     */
    static ImagePlus kept(ImagePlus imp, DataBar bar) {
        if (bar.excludedRows() == 0) {
            return imp;
        }
        Rectangle rows = new Rectangle(0, bar.topRows(), imp.getWidth(), imp.getHeight() - bar.excludedRows());
        return new ImagePlus(imp.getTitle(), CommandSupport.cropStack(imp.getStack(), rows));
    }

    /** {@code bounds} (of the analysed part of an image) moved down past the top bar. */
    static Rectangle shifted(Rectangle bounds, DataBar bar) {
        return new Rectangle(bounds.x, bounds.y + bar.topRows(), bounds.width, bounds.height);
    }

    /** {@code kept} (a clustering of the kept rows) at the slice's full height. */
    static Clustering expand(Clustering kept, DataBar bar, int height) {
        if (bar.excludedRows() == 0) {
            return kept;
        }
        int width = kept.width();
        byte[] labels = new byte[width * height];
        java.util.Arrays.fill(labels, (byte) SelectionMask.OUTSIDE_LABEL);
        System.arraycopy(kept.labels(), 0, labels, bar.topRows() * width, kept.labels().length);
        int k = kept.clusterCount();
        int features = kept.featureNames().length;
        long[] counts = new long[k];
        double[] fractions = new double[k];
        double[] areas = new double[k];
        double[] meanGrey = new double[k];
        double[] featureMeans = new double[k * features];
        for (int c = 0; c < k; c++) {
            counts[c] = kept.pixelCount(c);
            fractions[c] = kept.areaFraction(c);
            areas[c] = kept.area(c);
            meanGrey[c] = kept.meanGrey(c);
            for (int f = 0; f < features; f++) {
                featureMeans[c * features + f] = kept.featureMean(c, f);
            }
        }
        return new Clustering(labels, width, height, kept.featureNames(), counts, fractions, areas, meanGrey,
                featureMeans, kept.inertia(), kept.sampleSize(), kept.unit());
    }

    /** {@code kept} (a map of the kept rows) at the slice's full height, NaN in the bar. */
    static FloatProcessor expand(FloatProcessor kept, DataBar bar, int height) {
        if (bar.excludedRows() == 0) {
            return kept;
        }
        int width = kept.getWidth();
        float[] pixels = new float[width * height];
        java.util.Arrays.fill(pixels, Float.NaN);
        float[] keptPixels = (float[]) kept.getPixels();
        System.arraycopy(keptPixels, 0, pixels, bar.topRows() * width, keptPixels.length);
        return new FloatProcessor(width, height, pixels);
    }
}
