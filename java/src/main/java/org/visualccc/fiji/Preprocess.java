package org.visualccc.fiji;

import ij.ImagePlus;
import ij.ImageStack;
import ij.process.ImageProcessor;
import ij.process.ImageStatistics;
import org.visualccc.Filters;
import org.visualccc.Filters.Operation;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plugins › Visual-CCC › Preprocess...: filters every slice of the active image into a
 * new image {@code <title without extension>-<operation>} (e.g. {@code cells-gaussian}),
 * leaving the original untouched, with the original's calibration.
 *
 * <p>Macro (recordable), e.g.
 * <pre>
 * run("Preprocess...", "operation=Gaussian radius=2 sigma=2 sigma_range=30 tiles=8 clip_limit=2 rolling=50 saturated=0.35 output=[Same as input]");
 * run("Preprocess...", "operation=[Subtract background] rolling=50 light output=32-bit");
 * </pre>
 * Keys: {@code operation} (Median, Gaussian, Bilateral, CLAHE, [Subtract background],
 * [Contrast stretch]); {@code radius} (median, pixels); {@code sigma} (Gaussian, and the
 * bilateral's spatial σ, pixels); {@code sigma_range} (bilateral range σ, grey units);
 * {@code tiles} (CLAHE tiles across and down); {@code clip_limit} (CLAHE);
 * {@code rolling} (background radius, pixels) and {@code light} (light background);
 * {@code saturated} (contrast stretch, %); {@code output} ([Same as input] or 32-bit).
 * Only the keys of the chosen operation matter. (The bilateral range key is
 * {@code sigma_range}, not {@code range_sigma}: ImageJ would read {@code sigma=} out of
 * the latter.)
 *
 * <p>RGB images are filtered as their luminance (0.299 R + 0.587 G + 0.114 B), giving an
 * 8-bit grey result ("Same as input") or 32-bit: every Visual-CCC analysis works on
 * luminance, and per-channel filtering would shift colours for CLAHE and contrast stretch.
 *
 * <p>Scripting: {@link #preprocess(ImagePlus, Filters.Filter, boolean)}.
 */
public class Preprocess extends AnalysisCommand {
    /** {@code output} choice: keep the input's bit depth (8-bit for RGB). */
    public static final String SAME_DEPTH = "Same as input";
    /** {@code output} choice: 32-bit float. */
    public static final String FLOAT_DEPTH = "32-bit";

    /**
     * The dialog's defaults by macro key, from the core's filter defaults
     * ({@link Filters#defaults()}); the bilateral range σ is the core's fraction of the
     * image's grey range (255 for 8-bit and RGB, max − min of the slice otherwise).
     */
    static Map<String, Object> dialogDefaults(ImagePlus imp) {
        Map<String, Object> core = Filters.defaults();
        double greyRange = 255;
        if (imp != null && imp.getBitDepth() != 8 && imp.getBitDepth() != 24) {
            ImageStatistics stats = imp.getProcessor().getStats();
            greyRange = stats.max > stats.min ? stats.max - stats.min : 1;
        }
        Map<String, Object> fields = new LinkedHashMap<String, Object>();
        fields.put("radius", ((Number) core.get("radius")).doubleValue());
        fields.put("sigma", ((Number) core.get("sigma")).doubleValue());
        fields.put("sigma_range", ((Number) core.get("range_fraction")).doubleValue() * greyRange);
        fields.put("tiles", ((Number) core.get("tiles")).doubleValue());
        fields.put("clip_limit", ((Number) core.get("clip_limit")).doubleValue());
        fields.put("rolling", ((Number) core.get("rolling")).doubleValue());
        fields.put("light", core.get("light"));
        fields.put("saturated", ((Number) core.get("saturated")).doubleValue());
        return fields;
    }

    @Override
    CommandDialog createDialog(ImagePlus imp) {
        Map<String, Object> d = dialogDefaults(imp);
        return new CommandDialog("Visual-CCC: Preprocess", "visualccc.preprocess.")
                .choice("Operation", Operation.labels(), Operation.GAUSSIAN.label())
                .number("Radius", (Double) d.get("radius"), 0, "pixels (median)")
                .number("Sigma", (Double) d.get("sigma"), 2, "pixels (Gaussian, bilateral)")
                .number("Sigma_range", (Double) d.get("sigma_range"), 2, "grey levels (bilateral)")
                .number("Tiles", (Double) d.get("tiles"), 0, "across and down (CLAHE)")
                .number("Clip_limit", (Double) d.get("clip_limit"), 2, "(CLAHE)")
                .number("Rolling", (Double) d.get("rolling"), 1, "pixels (subtract background)")
                .checkbox("Light", (Boolean) d.get("light"))
                .number("Saturated", (Double) d.get("saturated"), 2, "% (contrast stretch)")
                .choice("Output", new String[] {SAME_DEPTH, FLOAT_DEPTH}, SAME_DEPTH)
                .message("RGB images are filtered as their luminance.");
    }

    @Override
    void analyse(ImagePlus imp, CommandDialog dialog) {
        Operation op = Operation.values()[dialog.nextChoiceIndex()];
        int radius = dialog.nextInt();
        double sigma = dialog.nextNumber();
        double sigmaRange = dialog.nextNumber();
        int tiles = dialog.nextInt();
        double clipLimit = dialog.nextNumber();
        double rolling = dialog.nextNumber();
        boolean light = dialog.nextBoolean();
        double saturated = dialog.nextNumber();
        boolean float32 = FLOAT_DEPTH.equals(dialog.nextChoice());
        Filters.Filter filter = filter(op, radius, sigma, sigmaRange, tiles, clipLimit, rolling, light, saturated);
        preprocess(imp, filter, float32).show();
    }

    /** The filter {@code op} with the dialog's parameters (the others are ignored). */
    static Filters.Filter filter(Operation op, int radius, double sigma, double sigmaRange, int tiles,
                                 double clipLimit, double rolling, boolean light, double saturated) {
        switch (op) {
            case MEDIAN:
                return Filters.median(radius);
            case GAUSSIAN:
                return Filters.gaussian(sigma);
            case BILATERAL:
                return Filters.bilateral(sigma, sigmaRange);
            case CLAHE:
                return Filters.clahe(tiles, tiles, clipLimit);
            case SUBTRACT_BACKGROUND:
                return Filters.subtractBackground(rolling, light);
            default:
                return Filters.contrastStretch(saturated);
        }
    }

    // ------------------------------------------------------------------ scripting API

    /**
     * Applies {@code filter} to every slice of {@code imp} and returns the result as a new
     * image (not shown) titled {@code <title without extension>-<operation>}, with the
     * shape and calibration of {@code imp} (its density calibration only when the bit depth
     * is kept). {@code imp} is not modified.
     *
     * @param float32 32-bit output instead of the input's depth (8-bit for RGB)
     * @throws IllegalArgumentException for bad filter parameters or NaN/infinite pixels
     */
    public static ImagePlus preprocess(ImagePlus imp, Filters.Filter filter, boolean float32) {
        if (imp == null || filter == null) {
            throw new IllegalArgumentException("no image or no filter given");
        }
        ImageStack source = imp.getStack();
        int depth = float32 ? 32 : Filters.SAME_DEPTH;
        List<ImageProcessor> slices = CommandSupport.mapSlices(source, "filtering",
                i -> filter.apply(source.getProcessor(i), depth));
        ImageStack stack = new ImageStack(imp.getWidth(), imp.getHeight());
        for (int i = 0; i < slices.size(); i++) {
            stack.addSlice(source.getSliceLabel(i + 1), slices.get(i));
        }
        String title = CommandSupport.derivedTitle(imp.getTitle(), "-" + filter.operation().slug());
        boolean keepDepth = imp.getBitDepth() != 24 && (!float32 || imp.getBitDepth() == 32);
        ImagePlus result = CommandSupport.derivedImage(imp, title, stack, 1, keepDepth);
        result.resetDisplayRange();
        result.setProperty("Info", "Visual-CCC preprocessing of " + imp.getTitle() + ": " + filter + "\n");
        return result;
    }
}
