package org.visualccc;

import ij.process.ByteProcessor;

/**
 * The result of {@link Thresholds#segment}: the thresholds, the label of every pixel
 * ({@code 0..classes-1}, or {@link #OUTSIDE_LABEL} for a pixel outside the analysed
 * selection) and the number of pixels in each class. Immutable; array getters return
 * copies.
 */
public final class Thresholding {
    /** Label of pixels outside the analysed selection: in no class and not counted. */
    public static final int OUTSIDE_LABEL = 255;

    private final double[] thresholds;
    private final byte[] labels;
    private final int width;
    private final int height;
    private final long[] counts;
    private final long analysed;

    /**
     * Called from native code with the JNI signature {@code ([D[BII)V}; keep it. The
     * arrays are taken over, not copied.
     *
     * @throws IllegalArgumentException if the arguments are inconsistent
     */
    public Thresholding(double[] thresholds, byte[] labels, int width, int height) {
        if (thresholds == null || labels == null || thresholds.length == 0 || thresholds.length > 255) {
            throw new IllegalArgumentException("1 to 255 thresholds and a label array are required");
        }
        if (width <= 0 || height <= 0 || (long) width * height != labels.length) {
            throw new IllegalArgumentException(labels.length + " labels are not " + width + "x" + height);
        }
        this.thresholds = thresholds;
        this.labels = labels;
        this.width = width;
        this.height = height;
        this.counts = new long[thresholds.length + 1];
        long outside = 0;
        for (byte label : labels) {
            int index = label & 0xff;
            if (index == OUTSIDE_LABEL && counts.length <= OUTSIDE_LABEL) {
                outside++;
                continue;
            }
            if (index >= counts.length) {
                throw new IllegalArgumentException("label " + index + " but only " + counts.length + " classes");
            }
            counts[index]++;
        }
        this.analysed = labels.length - outside;
    }

    /** Number of classes: thresholds + 1. */
    public int classCount() {
        return counts.length;
    }

    /** The thresholds, ascending (a copy). */
    public double[] thresholds() {
        return thresholds.clone();
    }

    /** One label per pixel, row-major (a copy). */
    public byte[] labels() {
        return labels.clone();
    }

    /** The labels as a new 8-bit image, values {@code 0..classCount()-1}. */
    public ByteProcessor labelProcessor() {
        return new ByteProcessor(width, height, labels.clone());
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** Pixels in class {@code classIndex}. */
    public long pixelCount(int classIndex) {
        if (classIndex < 0 || classIndex >= counts.length) {
            throw new IndexOutOfBoundsException("class " + classIndex + " of " + counts.length);
        }
        return counts[classIndex];
    }

    /** Fraction of the analysed pixels (all but those outside the selection) in class {@code classIndex}. */
    public double areaFraction(int classIndex) {
        return pixelCount(classIndex) / (double) analysed;
    }
}
