package org.visualccc;

import ij.measure.Calibration;
import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;

import java.util.Collections;
import java.util.Map;

/**
 * The published Visual-CCC workflow on one slice, run by the core's pipeline (the same code
 * as {@code visual-ccc analyze} and the batch engine): classification with the class
 * activation map of the predicted class, Otsu segmentation, whole-image GLCM texture and
 * the published texture map, k-means clustering on the default features and the target
 * cluster's area fraction. An instrument data bar is left out of every step by default.
 *
 * <pre>
 * Analysis a = Analysis.run(model, ip, imp.getCalibration(), "{\"k\": 3}");
 * double fraction = a.targetFraction();
 * </pre>
 *
 * <p>Settings go to the core as one JSON object holding only what the user set (see
 * {@link #defaults()} for the keys and the core's defaults); bad settings and NaN pixels
 * throw {@link IllegalArgumentException} with the core's message, naming the field.
 */
public final class Analysis {
    private final Map<String, Object> numbers;
    private final Classification classification;
    private final Clustering clustering;
    private final byte[] otsuLabels;
    private final float[] textureMap;
    private final int width;
    private final int height;

    /**
     * Called from native code with the JNI signature
     * {@code (Ljava/lang/String;Lorg/visualccc/Classification;Lorg/visualccc/Clustering;[B[FII)V};
     * keep it. The arrays are taken over, not copied.
     */
    @SuppressWarnings("unchecked")
    Analysis(String numbersJson, Classification classification, Clustering clustering, byte[] otsuLabels,
             float[] textureMap, int width, int height) {
        this.numbers = Collections.unmodifiableMap((Map<String, Object>) Json.parse(numbersJson));
        this.classification = classification;
        this.clustering = clustering;
        this.otsuLabels = otsuLabels;
        this.textureMap = textureMap;
        this.width = width;
        this.height = height;
    }

    /**
     * The core's defaults of the recipe: {@code k}, {@code seed}, {@code target_cluster}
     * (null = the brightest), {@code texture_levels}, {@code texture_features}, {@code cam},
     * {@code threads}, {@code exclude_data_bar}, {@code texture_map}.
     */
    public static Map<String, Object> defaults() {
        return CoreDefaults.of("analysis", Analysis::nativeDefaults);
    }

    /**
     * Runs the workflow on {@code ip} (its ROI is ignored).
     *
     * @param model        the classifier, or null to skip classification
     * @param calibration  pixel size and unit for areas, or null for pixels
     * @param settingsJson the settings the user set, as a JSON object ({@code "{}"} = defaults)
     */
    public static Analysis run(Model model, ImageProcessor ip, Calibration calibration, String settingsJson) {
        if (ip == null) {
            throw new IllegalArgumentException("no image given");
        }
        Object pixels = SlicePixels.of(ip);
        String settings = settingsJson == null ? "{}" : settingsJson;
        double pw = calibration == null ? 1 : calibration.pixelWidth;
        double ph = calibration == null ? 1 : calibration.pixelHeight;
        String unit = calibration == null ? "pixel" : calibration.getUnit();
        String ortLibrary = Model.onnxRuntimeProperty();
        String[] ortDirs = Model.onnxRuntimeSearchDirs();
        if (model == null) {
            return SlicePixels.checked(nativeAnalyze(0, pixels, ip.getWidth(), ip.getHeight(), settings, pw, ph,
                    unit, ortLibrary, ortDirs));
        }
        return SlicePixels.checked(model.withHandle(h -> nativeAnalyze(h, pixels, ip.getWidth(), ip.getHeight(),
                settings, pw, ph, unit, ortLibrary, ortDirs)));
    }

    /** The classification with its CAM, or null when run without a model. */
    public Classification classification() {
        return classification;
    }

    /** The clustering: labels full size, the data bar's rows labelled 255. */
    public Clustering clustering() {
        return clustering;
    }

    /** The Otsu threshold of the kept rows. */
    public double otsuThreshold() {
        return number("otsu_threshold");
    }

    /** Fraction of the kept pixels above the Otsu threshold. */
    public double otsuFraction() {
        return number("otsu_fraction");
    }

    /** The Otsu labels: 0 below, 1 above the threshold, 255 in the data bar's rows. */
    public ByteProcessor otsuLabels() {
        return new ByteProcessor(width, height, otsuLabels.clone());
    }

    /** A whole-image GLCM feature ({@code contrast}, ...) of the recipe, or NaN if not computed. */
    public double texture(String feature) {
        return feature(numbers.get("texture"), feature);
    }

    /** A feature of the published texture step over the whole Otsu mask, or NaN if not computed. */
    public double referenceTexture(String feature) {
        return feature(numbers.get("reference_texture"), feature);
    }

    /** The published texture map (contrast of 5x5 windows of the Otsu mask), or null; NaN in the bar. */
    public FloatProcessor textureMap() {
        return textureMap == null ? null : new FloatProcessor(width, height, textureMap.clone());
    }

    /** The cluster whose area fraction is reported. */
    public int targetCluster() {
        return (int) number("target_cluster");
    }

    /** Area fraction of the target cluster among the kept pixels. */
    public double targetFraction() {
        return number("target_fraction");
    }

    /** The rows left out as an instrument data bar. */
    public DataBar dataBar() {
        @SuppressWarnings("unchecked")
        Map<String, Object> bar = (Map<String, Object>) numbers.get("data_bar");
        return DataBar.of(((Number) bar.get("top_rows")).intValue(), ((Number) bar.get("bottom_rows")).intValue());
    }

    private double number(String key) {
        return ((Number) numbers.get(key)).doubleValue();
    }

    private static double feature(Object values, String feature) {
        if (!(values instanceof Map)) {
            return Double.NaN;
        }
        Object value = ((Map<?, ?>) values).get(feature);
        return value instanceof Number ? ((Number) value).doubleValue() : Double.NaN;
    }

    private static native String nativeDefaults();

    private static native Analysis nativeAnalyze(long modelHandle, Object pixels, int width, int height,
                                                 String settingsJson, double pixelWidth, double pixelHeight,
                                                 String unit, String ortLibrary, String[] ortSearchDirs);
}
