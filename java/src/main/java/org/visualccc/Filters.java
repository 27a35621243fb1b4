package org.visualccc;

import ij.process.ImageProcessor;

import java.util.Locale;
import java.util.Map;

/**
 * Preprocessing filters of the Rust core, one slice at a time: median, Gaussian,
 * bilateral, CLAHE, background subtraction (rolling paraboloid) and contrast stretch.
 *
 * <p>Build a {@link Filter} with a factory method, then {@link Filter#apply apply} it:
 * <pre>
 * ImageProcessor smooth = Filters.gaussian(2).apply(ip, Filters.SAME_DEPTH);
 * </pre>
 * Filters compute in 32-bit float on the grey values of the input; RGB images are
 * filtered as their luminance (0.299 R + 0.587 G + 0.114 B), so an RGB input gives a grey
 * result (8-bit with {@link #SAME_DEPTH}). Borders are reflected ({@code dcba|abcd}).
 * The input is never modified. Bad parameters (a radius of 0, a negative sigma, ...) and
 * images with NaN or infinite pixels throw {@link IllegalArgumentException} with the
 * core's message.
 */
public final class Filters {
    /** Output bit depth: the input's (8-bit for RGB), values rounded and clamped to its range. */
    public static final int SAME_DEPTH = 0;

    private Filters() {
    }

    /** The filters, with the names the Fiji command shows. */
    public enum Operation {
        MEDIAN("Median"),
        GAUSSIAN("Gaussian"),
        BILATERAL("Bilateral"),
        CLAHE("CLAHE"),
        SUBTRACT_BACKGROUND("Subtract background"),
        CONTRAST_STRETCH("Contrast stretch");

        private final String label;

        Operation(String label) {
            this.label = label;
        }

        /** The name shown in dialogs, e.g. {@code "Subtract background"}. */
        public String label() {
            return label;
        }

        /** Lower case with hyphens, for image titles: {@code "subtract-background"}. */
        public String slug() {
            return label.toLowerCase(Locale.ROOT).replace(' ', '-');
        }

        /** The operation whose {@link #label()} or name is {@code text} (case-insensitive). */
        public static Operation parse(String text) {
            for (Operation op : values()) {
                if (op.label.equalsIgnoreCase(text.trim()) || op.name().equalsIgnoreCase(text.trim())) {
                    return op;
                }
            }
            throw new IllegalArgumentException("unknown preprocessing operation '" + text + "'");
        }

        /** The dialog labels of all operations, in order. */
        public static String[] labels() {
            Operation[] ops = values();
            String[] labels = new String[ops.length];
            for (int i = 0; i < ops.length; i++) {
                labels[i] = ops[i].label;
            }
            return labels;
        }
    }

    /** One native filter call: pixels, size and output depth to a new pixel array. */
    private interface NativeFilter {
        Object call(Object pixels, int width, int height, int bitDepth);
    }

    /** A filter with its parameters, ready to apply to any number of slices. Immutable. */
    public static final class Filter {
        private final Operation operation;
        private final String description;
        private final NativeFilter call;

        private Filter(Operation operation, String description, NativeFilter call) {
            this.operation = operation;
            this.description = description;
            this.call = call;
        }

        public Operation operation() {
            return operation;
        }

        /**
         * Filters the whole of {@code ip} (its ROI is ignored) into a new processor.
         *
         * @param bitDepth {@link #SAME_DEPTH}, 8, 16 or 32; 8 and 16 round to nearest and
         *                 clamp to the type's range
         */
        public ImageProcessor apply(ImageProcessor ip, int bitDepth) {
            Object pixels = SlicePixels.of(ip);
            Object result = call.call(pixels, ip.getWidth(), ip.getHeight(), bitDepth);
            return SlicePixels.processor(SlicePixels.checked(result), ip.getWidth(), ip.getHeight());
        }

        /** E.g. {@code "Gaussian (sigma 2.0)"}. */
        @Override
        public String toString() {
            return operation.label() + " (" + description + ")";
        }
    }

    /** Median over a (2r+1)×(2r+1) square (scipy's {@code median_filter}); r ≥ 1. */
    public static Filter median(int radius) {
        return new Filter(Operation.MEDIAN, "radius " + radius,
                (p, w, h, d) -> nativeMedian(p, w, h, d, radius));
    }

    /** Gaussian blur (scipy's {@code gaussian_filter}, truncated at 4σ); σ in pixels. */
    public static Filter gaussian(double sigma) {
        return new Filter(Operation.GAUSSIAN, "sigma " + sigma,
                (p, w, h, d) -> nativeGaussian(p, w, h, d, sigma));
    }

    /**
     * Edge-preserving bilateral filter over a disc of radius ⌈2σ⌉ (OpenCV's
     * {@code bilateralFilter}).
     *
     * @param spatialSigma σ of the spatial weight, in pixels (at most 50)
     * @param rangeSigma   σ of the grey-value weight, in the image's grey units
     */
    public static Filter bilateral(double spatialSigma, double rangeSigma) {
        return new Filter(Operation.BILATERAL, "sigma " + spatialSigma + ", range sigma " + rangeSigma,
                (p, w, h, d) -> nativeBilateral(p, w, h, d, spatialSigma, rangeSigma));
    }

    /**
     * Contrast-limited adaptive histogram equalisation (OpenCV's {@code createCLAHE}).
     *
     * @param clipLimit relative to the mean histogram bin count (OpenCV's {@code clipLimit})
     */
    public static Filter clahe(int tilesX, int tilesY, double clipLimit) {
        return new Filter(Operation.CLAHE, tilesX + "x" + tilesY + " tiles, clip limit " + clipLimit,
                (p, w, h, d) -> nativeClahe(p, w, h, d, tilesX, tilesY, clipLimit));
    }

    /**
     * Subtracts the background estimated by a rolling paraboloid of radius {@code radius}
     * pixels (no shrinking or pre-smoothing, unlike ImageJ's Subtract Background).
     *
     * @param lightBackground objects darker than the background; the result's background is white
     */
    public static Filter subtractBackground(double radius, boolean lightBackground) {
        return new Filter(Operation.SUBTRACT_BACKGROUND,
                "radius " + radius + (lightBackground ? ", light background" : ""),
                (p, w, h, d) -> nativeSubtractBackground(p, w, h, d, radius, lightBackground));
    }

    /**
     * Linear stretch saturating {@code saturatedPercent} % of the pixels (half at each end),
     * like ImageJ's Enhance Contrast with Normalize: to 0-255 for 8-bit and RGB, 0-65535
     * for 16-bit, 0-1 for 32-bit.
     */
    public static Filter contrastStretch(double saturatedPercent) {
        return new Filter(Operation.CONTRAST_STRETCH, saturatedPercent + "% saturated",
                (p, w, h, d) -> nativeStretchContrast(p, w, h, d, saturatedPercent));
    }

    private static native Object nativeMedian(Object pixels, int width, int height, int bitDepth, int radius);

    private static native Object nativeGaussian(Object pixels, int width, int height, int bitDepth, double sigma);

    private static native Object nativeBilateral(Object pixels, int width, int height, int bitDepth,
                                                 double spatialSigma, double rangeSigma);

    private static native Object nativeClahe(Object pixels, int width, int height, int bitDepth, int tilesX,
                                             int tilesY, double clipLimit);

    private static native Object nativeSubtractBackground(Object pixels, int width, int height, int bitDepth,
                                                          double radius, boolean lightBackground);

    private static native Object nativeStretchContrast(Object pixels, int width, int height, int bitDepth,
                                                       double saturatedPercent);

    /**
     * The core's filter defaults ({@code radius}, {@code sigma}, {@code bilateral_sigma},
     * {@code range_fraction}, {@code tiles}, {@code clip_limit}, {@code rolling},
     * {@code light}, {@code saturated}), read once from the native library.
     */
    public static Map<String, Object> defaults() {
        return CoreDefaults.of("filters", Filters::nativeDefaults);
    }

    private static native String nativeDefaults();
}
