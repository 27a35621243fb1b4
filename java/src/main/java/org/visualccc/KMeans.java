package org.visualccc;

import ij.process.FloatProcessor;
import ij.process.ImageProcessor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Unsupervised segmentation of one slice by k-means on per-pixel features: grey value,
 * Gaussian-smoothed grey, local variance, the learned foreground probability, optional
 * weighted x/y position and any feature maps the caller supplies (e.g. a CAM heat map or a
 * texture map).
 *
 * <pre>
 * Clustering c = KMeans.cluster(ip, new KMeans.Params().k(3), null);
 * </pre>
 * Each feature is standardised over the image; k-means++ with {@code nInit} restarts is
 * fitted on a deterministic random sample of at most {@code maxSamples} pixels, then
 * every pixel is assigned. Results depend only on the inputs and the seed. Labels are
 * ordered by the clusters' mean grey value (darkest = 0). RGB images use their luminance.
 *
 * <p>Bad settings (k below 2 or above 255, no features, a non-positive sigma, ...), feature
 * maps of the wrong size and NaN pixels throw {@link IllegalArgumentException} with the
 * core's message.
 */
public final class KMeans {
    /** Most clusters accepted (labels are bytes). */
    public static final int MAX_K = 255;

    private KMeans() {
    }

    /**
     * k-means settings; a mutable builder whose defaults are the core's: k = 2, smoothed grey
     * (σ = 2) and the learned foreground probability, no position, seed 42, 4 restarts, 300
     * iterations, tolerance 1e-4, 100 000 sample pixels, uncalibrated pixels.
     */
    public static final class Params {
        private int k = 2;
        private boolean grey;
        private boolean smoothed = true;
        private double sigma = 2;
        private boolean localVariance;
        private int varianceRadius = 3;
        private boolean foreground = true;
        private double positionWeight;
        private long seed = 42;
        private int nInit = 4;
        private long maxIterations = 300;
        private double tolerance = 1e-4;
        private int maxSamples = 100_000;
        private double pixelWidth = 1;
        private double pixelHeight = 1;
        private String unit = "pixel";

        /** Number of clusters, 2 to 255. */
        public Params k(int k) {
            this.k = k;
            return this;
        }

        public int k() {
            return k;
        }

        /** Use the grey value (RGB: luminance) as a feature. */
        public Params grey(boolean grey) {
            this.grey = grey;
            return this;
        }

        /** Use the grey value smoothed by a Gaussian of {@code sigma} pixels; off when false. */
        public Params smoothed(boolean smoothed, double sigma) {
            this.smoothed = smoothed;
            this.sigma = sigma;
            return this;
        }

        /** Use the grey-value variance in a (2r+1)² window; off when false. */
        public Params localVariance(boolean localVariance, int radius) {
            this.localVariance = localVariance;
            this.varianceRadius = radius;
            return this;
        }

        /**
         * Use the learned foreground probability (0-1) of the network bundled with the native
         * library: high on compact objects such as particles, low on the background around
         * them, whatever their grey. Needs ONNX Runtime (found as for {@link Model#open}).
         */
        public Params foreground(boolean foreground) {
            this.foreground = foreground;
            return this;
        }

        /** Weight of the standardised x and y coordinates; 0 (default) leaves position out. */
        public Params positionWeight(double positionWeight) {
            this.positionWeight = positionWeight;
            return this;
        }

        /** Seed of the sampling and k-means++ random generator (fixed by default). */
        public Params seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Number of k-means++ restarts; the run with the lowest inertia is kept. */
        public Params nInit(int nInit) {
            this.nInit = nInit;
            return this;
        }

        public Params maxIterations(long maxIterations) {
            this.maxIterations = maxIterations;
            return this;
        }

        /** Convergence tolerance on the centroid shift, in standardised units. */
        public Params tolerance(double tolerance) {
            this.tolerance = tolerance;
            return this;
        }

        /** At most this many pixels (at least 100) are used for fitting; all are assigned. */
        public Params maxSamples(int maxSamples) {
            this.maxSamples = maxSamples;
            return this;
        }

        /** Pixel size and length unit for the calibrated areas ({@code unit²}). */
        public Params calibration(double pixelWidth, double pixelHeight, String unit) {
            this.pixelWidth = pixelWidth;
            this.pixelHeight = pixelHeight;
            this.unit = unit == null || unit.trim().isEmpty() ? "pixel" : unit;
            return this;
        }

        /** A copy that can be changed independently. */
        public Params copy() {
            Params p = new Params();
            p.k = k;
            p.grey = grey;
            p.smoothed = smoothed;
            p.sigma = sigma;
            p.localVariance = localVariance;
            p.varianceRadius = varianceRadius;
            p.foreground = foreground;
            p.positionWeight = positionWeight;
            p.seed = seed;
            p.nInit = nInit;
            p.maxIterations = maxIterations;
            p.tolerance = tolerance;
            p.maxSamples = maxSamples;
            p.pixelWidth = pixelWidth;
            p.pixelHeight = pixelHeight;
            p.unit = unit;
            return p;
        }
    }

    /**
     * Clusters the whole of {@code ip} (its ROI is ignored).
     *
     * @param featureMaps extra per-pixel features, name → image of the same size (any type;
     *                    read as calibrated grey values, RGB as luminance); may be null
     */
    public static Clustering cluster(ImageProcessor ip, Params params, Map<String, ImageProcessor> featureMaps) {
        if (params == null) {
            throw new IllegalArgumentException("no clustering settings given");
        }
        Object pixels = SlicePixels.of(ip);
        Map<String, ImageProcessor> extras = featureMaps == null
                ? new LinkedHashMap<String, ImageProcessor>() : featureMaps;
        float[][] maps = new float[extras.size()][];
        String[] names = new String[extras.size()];
        int i = 0;
        for (Map.Entry<String, ImageProcessor> entry : extras.entrySet()) {
            ImageProcessor map = entry.getValue();
            if (entry.getKey() == null || map == null) {
                throw new IllegalArgumentException("feature map " + (i + 1) + " has no name or no image");
            }
            if (map.getWidth() != ip.getWidth() || map.getHeight() != ip.getHeight()) {
                throw new IllegalArgumentException("feature map '" + entry.getKey() + "' is " + map.getWidth()
                        + "x" + map.getHeight() + " but the image is " + ip.getWidth() + "x" + ip.getHeight());
            }
            names[i] = entry.getKey();
            maps[i] = floatPixels(map);
            i++;
        }
        Params p = params;
        return SlicePixels.checked(nativeCluster(pixels, ip.getWidth(), ip.getHeight(), p.k, p.grey, p.smoothed,
                p.sigma, p.localVariance, p.varianceRadius, p.foreground, p.positionWeight, maps, names, p.seed,
                p.nInit, p.maxIterations, p.tolerance, p.maxSamples, p.pixelWidth, p.pixelHeight, p.unit,
                Model.onnxRuntimeProperty(), Model.onnxRuntimeSearchDirs()));
    }

    /** The pixels of {@code ip} as floats, without copying a 32-bit image. */
    private static float[] floatPixels(ImageProcessor ip) {
        if (ip instanceof FloatProcessor) {
            return (float[]) ip.getPixels();
        }
        return (float[]) ip.convertToFloatProcessor().getPixels();
    }

    private static native Clustering nativeCluster(Object pixels, int width, int height, int k, boolean grey,
                                                   boolean smoothed, double sigma, boolean localVariance,
                                                   int varianceRadius, boolean foreground, double positionWeight,
                                                   float[][] maps, String[] names, long seed, int nInit,
                                                   long maxIterations, double tolerance, int maxSamples,
                                                   double pixelWidth, double pixelHeight, String unit,
                                                   String ortLibraryPath, String[] ortSearchDirs);
}
