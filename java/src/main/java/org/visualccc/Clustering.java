package org.visualccc;

import ij.process.ByteProcessor;

/**
 * The result of {@link KMeans#cluster}: one label per pixel ({@code 0..k-1}, ordered by
 * the clusters' mean grey value, darkest first) and a summary of each cluster. Immutable;
 * array getters return copies.
 */
public final class Clustering {
    private final byte[] labels;
    private final int width;
    private final int height;
    private final String[] featureNames;
    private final long[] pixelCounts;
    private final double[] areaFractions;
    private final double[] areas;
    private final double[] meanGrey;
    private final double[] featureMeans;
    private final double inertia;
    private final int sampleSize;
    private final String unit;

    /**
     * Called from native code with the JNI signature
     * {@code ([BII[Ljava/lang/String;[J[D[D[D[DDILjava/lang/String;)V}; keep it. The arrays
     * are taken over, not copied.
     *
     * @param featureMeans cluster-major: {@code featureMeans[c * featureNames.length + f]}
     * @throws IllegalArgumentException if the arguments are inconsistent
     */
    public Clustering(byte[] labels, int width, int height, String[] featureNames, long[] pixelCounts,
                      double[] areaFractions, double[] areas, double[] meanGrey, double[] featureMeans,
                      double inertia, int sampleSize, String unit) {
        if (labels == null || width <= 0 || height <= 0 || (long) width * height != labels.length) {
            throw new IllegalArgumentException("labels are not " + width + "x" + height);
        }
        if (featureNames == null || pixelCounts == null || areaFractions == null || areas == null
                || meanGrey == null || featureMeans == null) {
            throw new IllegalArgumentException("cluster summaries are required");
        }
        int k = pixelCounts.length;
        if (k == 0 || areaFractions.length != k || areas.length != k || meanGrey.length != k
                || featureMeans.length != k * featureNames.length) {
            throw new IllegalArgumentException("inconsistent summaries of " + k + " clusters");
        }
        this.labels = labels;
        this.width = width;
        this.height = height;
        this.featureNames = featureNames;
        this.pixelCounts = pixelCounts;
        this.areaFractions = areaFractions;
        this.areas = areas;
        this.meanGrey = meanGrey;
        this.featureMeans = featureMeans;
        this.inertia = inertia;
        this.sampleSize = sampleSize;
        this.unit = unit == null ? "pixel" : unit;
    }

    /** Number of clusters k. */
    public int clusterCount() {
        return pixelCounts.length;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** One label per pixel, row-major (a copy). */
    public byte[] labels() {
        return labels.clone();
    }

    /** The labels as a new 8-bit image, values {@code 0..k-1}. */
    public ByteProcessor labelProcessor() {
        return new ByteProcessor(width, height, labels.clone());
    }

    /** Binary mask of cluster {@code cluster}: 255 inside, 0 elsewhere (ImageJ's convention). */
    public ByteProcessor mask(int cluster) {
        checkCluster(cluster);
        byte[] mask = new byte[labels.length];
        for (int i = 0; i < labels.length; i++) {
            mask[i] = (labels[i] & 0xff) == cluster ? (byte) 255 : 0;
        }
        return new ByteProcessor(width, height, mask);
    }

    /** Names of the features used, in order (image features, supplied maps, then x and y). */
    public String[] featureNames() {
        return featureNames.clone();
    }

    public long pixelCount(int cluster) {
        checkCluster(cluster);
        return pixelCounts[cluster];
    }

    /** Fraction of the image's pixels in {@code cluster}. */
    public double areaFraction(int cluster) {
        checkCluster(cluster);
        return areaFractions[cluster];
    }

    /** Area of {@code cluster} in {@link #unit()}² (pixels × pixel width × pixel height). */
    public double area(int cluster) {
        checkCluster(cluster);
        return areas[cluster];
    }

    /** Mean grey value of {@code cluster} (the label order). */
    public double meanGrey(int cluster) {
        checkCluster(cluster);
        return meanGrey[cluster];
    }

    /** Mean of feature {@code feature} (index into {@link #featureNames()}) in its own units. */
    public double featureMean(int cluster, int feature) {
        checkCluster(cluster);
        if (feature < 0 || feature >= featureNames.length) {
            throw new IndexOutOfBoundsException("feature " + feature + " of " + featureNames.length);
        }
        return featureMeans[cluster * featureNames.length + feature];
    }

    /** Sum of squared distances of all pixels to their centroid, in standardised feature space. */
    public double inertia() {
        return inertia;
    }

    /** Number of pixels the centroids were fitted on. */
    public int sampleSize() {
        return sampleSize;
    }

    /** Length unit of the areas (areas are in unit²). */
    public String unit() {
        return unit;
    }

    private void checkCluster(int cluster) {
        if (cluster < 0 || cluster >= pixelCounts.length) {
            throw new IllegalArgumentException("cluster " + cluster + " does not exist: labels run from 0 to "
                    + (pixelCounts.length - 1));
        }
    }
}
