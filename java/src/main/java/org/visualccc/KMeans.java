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

    /** The core's default settings (JSON keys as in {@link Params}), read once. */
    /**
     * The core's default clustering settings, keyed as the core names them ({@code k},
     * {@code grey}, {@code smoothed}, {@code sigma}, {@code local_variance},
     * {@code variance_radius}, {@code foreground}, {@code position_weight}, {@code seed},
     * {@code n_init}, {@code max_iterations}, {@code tolerance}, {@code max_samples},
     * {@code pixel_width}, {@code pixel_height}, {@code unit}). Loads the native library.
     */
    public static Map<String, Object> defaults() {
        return CoreDefaults.of("cluster", KMeans::nativeDefaults);
    }

    /**
     * k-means settings: a mutable builder that holds only what the caller set; everything
     * else is the core's default ({@link KMeans#defaults()}: k = 2, smoothed grey and the
     * learned foreground probability, seed 42, ...). The core validates the settings.
     */
    public static final class Params {
        private final Map<String, Object> set = new LinkedHashMap<String, Object>();

        private Params put(String key, Object value) {
            set.put(key, value);
            return this;
        }

        private Object get(String key) {
            return set.containsKey(key) ? set.get(key) : defaults().get(key);
        }

        private double number(String key) {
            return ((Number) get(key)).doubleValue();
        }

        private boolean flag(String key) {
            return (Boolean) get(key);
        }

        /** Number of clusters, 2 to 255. */
        public Params k(int k) {
            return put("k", k);
        }

        public int k() {
            return (int) number("k");
        }

        /** Use the grey value as a feature. */
        public Params grey(boolean grey) {
            return put("grey", grey);
        }

        public boolean grey() {
            return flag("grey");
        }

        /** Use grey smoothed with a Gaussian of {@code sigma} pixels as a feature. */
        public Params smoothed(boolean smoothed, double sigma) {
            return put("smoothed", smoothed).put("sigma", sigma);
        }

        public boolean smoothed() {
            return flag("smoothed");
        }

        public double sigma() {
            return number("sigma");
        }

        /** Use the grey variance in a (2r+1)² window as a feature. */
        public Params localVariance(boolean localVariance, int radius) {
            return put("local_variance", localVariance).put("variance_radius", radius);
        }

        public boolean localVariance() {
            return flag("local_variance");
        }

        public int varianceRadius() {
            return (int) number("variance_radius");
        }

        /** Use the learned foreground probability as a feature (needs ONNX Runtime). */
        public Params foreground(boolean foreground) {
            return put("foreground", foreground);
        }

        public boolean foreground() {
            return flag("foreground");
        }

        /** Weight of the x/y position features; 0 leaves position out. */
        public Params positionWeight(double positionWeight) {
            return put("position_weight", positionWeight);
        }

        public double positionWeight() {
            return number("position_weight");
        }

        /** Seed of the sample and of k-means++. */
        public Params seed(long seed) {
            return put("seed", seed);
        }

        public long seed() {
            return (long) number("seed");
        }

        /** k-means++ restarts; the best is kept. */
        public Params nInit(int nInit) {
            return put("n_init", nInit);
        }

        public int nInit() {
            return (int) number("n_init");
        }

        public Params maxIterations(long maxIterations) {
            return put("max_iterations", maxIterations);
        }

        public long maxIterations() {
            return (long) number("max_iterations");
        }

        public Params tolerance(double tolerance) {
            return put("tolerance", tolerance);
        }

        public double tolerance() {
            return number("tolerance");
        }

        /** At most this many pixels are used to fit the centroids. */
        public Params maxSamples(int maxSamples) {
            return put("max_samples", maxSamples);
        }

        /** Pixel size for calibrated areas (blank unit: pixels). */
        public Params calibration(double pixelWidth, double pixelHeight, String unit) {
            return put("pixel_width", pixelWidth).put("pixel_height", pixelHeight)
                    .put("unit", unit == null || unit.trim().isEmpty() ? "pixel" : unit);
        }

        public Params copy() {
            Params p = new Params();
            p.set.putAll(set);
            return p;
        }

        /** The settings the caller made, as the JSON the core reads. */
        public String toJson() {
            return Json.object(set);
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
        return SlicePixels.checked(nativeCluster(pixels, ip.getWidth(), ip.getHeight(), params.toJson(), maps,
                names, Model.onnxRuntimeProperty(), Model.onnxRuntimeSearchDirs()));
    }

    /** The pixels of {@code ip} as floats, without copying a 32-bit image. */
    private static float[] floatPixels(ImageProcessor ip) {
        if (ip instanceof FloatProcessor) {
            return (float[]) ip.getPixels();
        }
        return (float[]) ip.convertToFloatProcessor().getPixels();
    }

    private static native Clustering nativeCluster(Object pixels, int width, int height, String settingsJson,
                                                   float[][] maps, String[] names, String ortLibraryPath,
                                                   String[] ortSearchDirs);

    private static native String nativeDefaults();
}
