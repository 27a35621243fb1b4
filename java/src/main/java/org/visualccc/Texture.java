package org.visualccc;

import ij.process.ImageProcessor;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Grey-level co-occurrence (GLCM, Haralick) texture of one slice, with scikit-image's
 * definitions ({@code graycomatrix} / {@code graycoprops}): sliding-window feature maps
 * the size of the image and whole-image feature values.
 *
 * <pre>
 * TextureResult r = Texture.analyse(ip, new Texture.Params().window(7).levels(32), true, true);
 * </pre>
 * Results are named by {@link TextureResult#names()}: the feature name ({@code contrast},
 * {@code ASM}, ...) when the settings give one result per feature, else the feature with
 * its distance and angle ({@code contrast d=2 45deg}, {@code contrast d=2 mean}).
 *
 * <p>Bad settings (even or too small window, levels outside 2-256, angles other than
 * 0/45/90/135, unknown features) and NaN pixels throw {@link IllegalArgumentException}
 * with the core's message.
 */
public final class Texture {
    /** Feature names accepted by {@link Params#features(String...)}, in scikit-image's spelling. */
    public static final String[] FEATURES = {"contrast", "dissimilarity", "homogeneity", "ASM", "energy",
        "correlation", "entropy", "mean", "variance"};

    private Texture() {
    }

    /** How pixel values become grey levels; keep the order (native code uses the ordinal). */
    public enum Quantization {
        /** 8-bit and RGB: fixed bins over 0-255 ({@code v * levels / 256}); 16/32-bit: as MIN_MAX. */
        AUTO,
        /** Equal bins between the image's minimum and maximum. */
        MIN_MAX,
        /** The values already are levels {@code 0..levels-1} (e.g. a 0/1 mask). */
        DIRECT;

        /** The quantisation the core names {@code name} ({@code auto}, {@code minmax}, {@code direct}). */
        public static Quantization fromCoreName(String name) {
            String key = name.toLowerCase(Locale.ROOT);
            for (Quantization q : values()) {
                if (q.name().replace("_", "").toLowerCase(Locale.ROOT).equals(key)) {
                    return q;
                }
            }
            throw new IllegalArgumentException("unknown quantisation '" + name + "'");
        }
    }

    /**
     * The core's texture defaults: {@code window}, {@code levels}, {@code distances},
     * {@code angles}, {@code average_angles}, {@code symmetric}, {@code quantization},
     * {@code features}.
     */
    public static Map<String, Object> defaults() {
        return CoreDefaults.of("texture", Texture::nativeDefaults);
    }

    /**
     * GLCM settings; a mutable builder whose defaults are the core's ({@link #defaults()}:
     * window, levels, distances, angles averaged or not, symmetry, quantisation, features).
     */
    public static final class Params {
        private int window;
        private int levels;
        private int[] distances;
        private double[] angles;
        private boolean averageAngles;
        private boolean symmetric;
        private Quantization quantization;
        private String[] features;
        private int threads;
        private boolean reference;

        /** The core's defaults. */
        public Params() {
            Map<String, Object> d = defaults();
            window = ((Number) d.get("window")).intValue();
            levels = ((Number) d.get("levels")).intValue();
            List<?> distanceList = (List<?>) d.get("distances");
            distances = new int[distanceList.size()];
            for (int i = 0; i < distances.length; i++) {
                distances[i] = ((Number) distanceList.get(i)).intValue();
            }
            List<?> angleList = (List<?>) d.get("angles");
            angles = new double[angleList.size()];
            for (int i = 0; i < angles.length; i++) {
                angles[i] = ((Number) angleList.get(i)).doubleValue();
            }
            averageAngles = (Boolean) d.get("average_angles");
            symmetric = (Boolean) d.get("symmetric");
            quantization = Quantization.fromCoreName((String) d.get("quantization"));
            features = ((List<?>) d.get("features")).toArray(new String[0]);
        }

        /**
         * The published tool's texture step: the mask {@code image > Otsu threshold}, then
         * GLCM contrast in 5×5 windows with 2 levels, distance 1, angle 0. All other
         * settings are ignored.
         */
        public static Params reference() {
            Params p = new Params();
            p.reference = true;
            return p;
        }

        /** Window side in pixels: odd, 3 to 255. */
        public Params window(int window) {
            this.window = window;
            return this;
        }

        /** Number of grey levels, 2 to 256. */
        public Params levels(int levels) {
            this.levels = levels;
            return this;
        }

        /** Pixel-pair distances, each at least 1 and smaller than the window. */
        public Params distances(int... distances) {
            this.distances = distances == null ? new int[0] : distances.clone();
            return this;
        }

        /** Pixel-pair angles in degrees: 0, 45, 90, 135 (90 pairs a pixel with the one below). */
        public Params angles(double... angles) {
            this.angles = angles == null ? new double[0] : angles.clone();
            return this;
        }

        /** Report the mean over the angles (per distance) instead of one result per angle. */
        public Params averageAngles(boolean averageAngles) {
            this.averageAngles = averageAngles;
            return this;
        }

        /** Count each pair both ways. */
        public Params symmetric(boolean symmetric) {
            this.symmetric = symmetric;
            return this;
        }

        public Params quantization(Quantization quantization) {
            if (quantization == null) {
                throw new IllegalArgumentException("no quantisation given");
            }
            this.quantization = quantization;
            return this;
        }

        /** Features by name (see {@link Texture#FEATURES}; case is ignored), in output order. */
        public Params features(String... features) {
            this.features = features == null ? new String[0] : features.clone();
            return this;
        }

        /** Worker threads for the maps; 0 = all cores. Results do not depend on it. */
        public Params threads(int threads) {
            this.threads = threads;
            return this;
        }

        public boolean isReference() {
            return reference;
        }

        @Override
        public String toString() {
            if (reference) {
                return "reference mode (Otsu mask, 5x5 window, 2 levels, d=1, 0deg, contrast)";
            }
            return "window " + window + ", " + levels + " levels, distances " + Arrays.toString(distances)
                    + ", angles " + Arrays.toString(angles) + (averageAngles ? " averaged" : "")
                    + (symmetric ? ", symmetric" : "") + ", " + quantization + ", features "
                    + Arrays.toString(features);
        }
    }

    /**
     * Texture of the whole of {@code ip} (its ROI is ignored).
     *
     * @param maps   compute the sliding-window maps (zero-padded borders)
     * @param values compute the whole-image values (no padding)
     */
    public static TextureResult analyse(ImageProcessor ip, Params params, boolean maps, boolean values) {
        if (params == null) {
            throw new IllegalArgumentException("no texture settings given");
        }
        Object pixels = SlicePixels.of(ip);
        Params p = params;
        return SlicePixels.checked(nativeAnalyse(pixels, ip.getWidth(), ip.getHeight(), p.window, p.levels,
                p.distances, p.angles, p.averageAngles, p.symmetric, p.quantization.ordinal(), p.features,
                p.threads, p.reference, maps, values));
    }

    /** Sliding-window maps only. */
    public static TextureResult maps(ImageProcessor ip, Params params) {
        return analyse(ip, params, true, false);
    }

    /** Whole-image values only. */
    public static TextureResult values(ImageProcessor ip, Params params) {
        return analyse(ip, params, false, true);
    }

    private static native String nativeDefaults();

    private static native TextureResult nativeAnalyse(Object pixels, int width, int height, int window,
                                                      int levels, int[] distances, double[] angles,
                                                      boolean averageAngles, boolean symmetric,
                                                      int quantization, String[] features, int threads,
                                                      boolean reference, boolean maps, boolean values);
}
