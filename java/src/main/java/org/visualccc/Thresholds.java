package org.visualccc;

import ij.process.ImageProcessor;

import java.util.Map;

/**
 * Global Otsu thresholds of one slice, matching scikit-image: {@code threshold_otsu} for
 * two classes, {@code threshold_multiotsu(classes=3..5)} otherwise, both with 256 bins.
 *
 * <p>Definition: 8-bit images use one histogram bin per grey value and give grey-value
 * thresholds; 16-bit, 32-bit and RGB (luminance 0.299 R + 0.587 G + 0.114 B) use 256
 * equal bins between the minimum and maximum and give bin centres. A pixel belongs to
 * class {@code i} when its value exceeds exactly {@code i} thresholds ({@code value > t},
 * so a pixel equal to a threshold stays in the lower class). ImageJ's own "Otsu" auto
 * threshold is a different definition and can differ by a bin.
 *
 * <p>{@link IllegalArgumentException} for fewer than 2 or more than 5 classes, images
 * with too few distinct values, empty images and NaN or infinite pixels.
 */
public final class Thresholds {
    /** One line describing the definition, for logs and image info. */
    public static final String DEFINITION = "Otsu thresholds as scikit-image's threshold_otsu (2 classes) / "
            + "threshold_multiotsu (3-5 classes), 256 bins for 16-bit, 32-bit and RGB luminance; "
            + "class i = pixels with value > exactly i thresholds (foreground = value > t)";

    private Thresholds() {
    }

    /** The core's defaults: {@code classes}, and the fewest and most accepted ({@code min_classes}, {@code max_classes}). */
    public static Map<String, Object> defaults() {
        return CoreDefaults.of("threshold", Thresholds::nativeDefaults);
    }

    /** A default as an int ({@code classes}, {@code min_classes}, {@code max_classes}). */
    public static int defaultInt(String key) {
        return ((Number) defaults().get(key)).intValue();
    }

    private static native String nativeDefaults();

    /** The {@code classes - 1} thresholds of {@code ip}, ascending. */
    public static double[] thresholds(ImageProcessor ip, int classes) {
        return segment(ip, classes).thresholds();
    }

    /**
     * Labels each pixel of {@code ip} with the number of {@code thresholds} (ascending,
     * finite, 1 to 255 of them) its value exceeds; row-major, one byte per pixel.
     */
    public static byte[] apply(ImageProcessor ip, double[] thresholds) {
        Object pixels = SlicePixels.of(ip);
        if (thresholds == null) {
            throw new IllegalArgumentException("no thresholds given");
        }
        return SlicePixels.checked(nativeApply(pixels, ip.getWidth(), ip.getHeight(), thresholds));
    }

    /** Thresholds {@code ip} into {@code classes} classes: thresholds, labels and class sizes. */
    public static Thresholding segment(ImageProcessor ip, int classes) {
        Object pixels = SlicePixels.of(ip);
        return SlicePixels.checked(nativeSegment(pixels, ip.getWidth(), ip.getHeight(), classes));
    }

    private static native byte[] nativeApply(Object pixels, int width, int height, double[] thresholds);

    private static native Thresholding nativeSegment(Object pixels, int width, int height, int classes);
}
