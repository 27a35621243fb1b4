package org.visualccc.fiji;

import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.ResultsTable;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import org.visualccc.DataBar;
import org.visualccc.Texture;
import org.visualccc.TextureResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * Plugins › Visual-CCC › Texture (GLCM)...: grey-level co-occurrence (Haralick) texture
 * of every slice of the active image, with scikit-image's definitions. Shows a 32-bit
 * image {@code <title without extension>-texture} with one sliding-window map per result
 * (slice labels = result names; for a stack, a hyperstack with the results as channels),
 * calibrated like the image, and adds one row per slice to the table
 * {@value #TABLE_TITLE}: {@code Image}, {@code Slice} and the whole-image value of each
 * result. Results are named by the feature ({@code contrast}, {@code ASM}, ...) when
 * there is one per feature, else e.g. {@code contrast d=2 45deg} / {@code contrast d=2 mean}.
 *
 * <p>Macro (recordable), e.g.
 * <pre>
 * run("Texture (GLCM)...", "contrast homogeneity energy correlation window=7 levels=32 distances=1 angles=[0 45 90 135] average_angles symmetric quantization=Auto");
 * run("Texture (GLCM)...", "reference_mode");
 * </pre>
 * Keys: the features {@code contrast dissimilarity homogeneity asm energy correlation
 * entropy mean variance} (checkboxes); {@code window} (odd, 3-255); {@code levels}
 * (2-256); {@code distances} and {@code angles} (lists separated by spaces or commas;
 * angles 0, 45, 90, 135 degrees, 90 pairing a pixel with the one below);
 * {@code average_angles}; {@code symmetric}; {@code quantization} (Auto: 8-bit and RGB
 * binned over 0-255, 16/32-bit over their min-max; Min-max; Direct: values already are
 * levels); {@code reference_mode} (the published tool's map: Otsu mask, 5x5 window, 2
 * levels, distance 1, angle 0, contrast; all other keys are ignored); {@code exclude_data_bar}
 * (on in the dialog: each slice's instrument data bar, {@link DataBar}, is left out, its
 * map pixels NaN; the column {@code Excluded rows} says how many rows).
 *
 * <p>Scripting: {@link #texture(ImagePlus, Texture.Params, ResultsTable)}.
 */
public class TextureGlcm extends AnalysisCommand {
    /** Title of the results table. */
    public static final String TABLE_TITLE = "Visual-CCC Texture";
    /** Suffix of the feature-map image's title. */
    public static final String SUFFIX = "-texture";
    /** {@code quantization} choices, in {@link Texture.Quantization} order. */
    static final String[] QUANTIZATIONS = {"Auto", "Min-max", "Direct"};

    /**
     * The dialog's defaults by macro key (features by name): the core's texture defaults
     * ({@link Texture#defaults()}), so the dialog and the core cannot disagree.
     */
    static Map<String, Object> dialogDefaults() {
        Map<String, Object> d = Texture.defaults();
        Map<String, Object> fields = new LinkedHashMap<String, Object>();
        List<?> chosen = (List<?>) d.get("features");
        for (String feature : Texture.FEATURES) {
            fields.put(feature, chosen.contains(feature));
        }
        fields.put("window", ((Number) d.get("window")).intValue());
        fields.put("levels", ((Number) d.get("levels")).intValue());
        fields.put("distances", join((List<?>) d.get("distances")));
        fields.put("angles", join((List<?>) d.get("angles")));
        fields.put("average_angles", d.get("average_angles"));
        fields.put("symmetric", d.get("symmetric"));
        Texture.Quantization quantization = Texture.Quantization.fromCoreName((String) d.get("quantization"));
        fields.put("quantization", QUANTIZATIONS[quantization.ordinal()]);
        return fields;
    }

    /** Numbers as the dialog shows them: separated by spaces, whole numbers without ".0". */
    private static String join(List<?> numbers) {
        StringBuilder text = new StringBuilder();
        for (Object number : numbers) {
            double v = ((Number) number).doubleValue();
            text.append(text.length() == 0 ? "" : " ").append(v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v));
        }
        return text.toString();
    }

    @Override
    CommandDialog createDialog(ImagePlus imp) {
        Map<String, Object> d = dialogDefaults();
        boolean[] features = new boolean[Texture.FEATURES.length];
        for (int i = 0; i < features.length; i++) {
            features[i] = (Boolean) d.get(Texture.FEATURES[i]);
        }
        return new CommandDialog("Visual-CCC: Texture (GLCM)", "visualccc.texture.")
                .message("Features:")
                .checkboxGroup(3, 3, featureLabels(), features)
                .number("Window", (Integer) d.get("window"), 0, "pixels (odd)")
                .number("Levels", (Integer) d.get("levels"), 0, "grey levels (2-256)")
                .string("Distances", (String) d.get("distances"), 12)
                .string("Angles", (String) d.get("angles"), 12)
                .checkbox("Average_angles", (Boolean) d.get("average_angles"))
                .checkbox("Symmetric", (Boolean) d.get("symmetric"))
                .choice("Quantization", QUANTIZATIONS, (String) d.get("quantization"))
                .checkbox("Reference_mode", false)
                .checkbox("Exclude_data_bar", DataBar.excludedByDefault())
                .message("Reference mode: the published tool's map (Otsu mask, 5x5 window, 2 levels,\n"
                        + "distance 1, angle 0, contrast); the settings above are then ignored.");
    }

    @Override
    void analyse(ImagePlus imp, CommandDialog dialog) {
        List<String> features = new ArrayList<String>();
        for (String feature : Texture.FEATURES) {
            if (dialog.nextBoolean()) {
                features.add(feature);
            }
        }
        Texture.Params params = new Texture.Params()
                .features(features.toArray(new String[0]))
                .window(dialog.nextInt())
                .levels(dialog.nextInt())
                .distances(parseInts("Distances", dialog.nextString()))
                .angles(parseDoubles("Angles", dialog.nextString()))
                .averageAngles(dialog.nextBoolean())
                .symmetric(dialog.nextBoolean())
                .quantization(Texture.Quantization.values()[dialog.nextChoiceIndex()]);
        if (dialog.nextBoolean()) {
            params = Texture.Params.reference();
        }
        texture(imp, params, dialog.nextBoolean(), null).show();
    }

    /** Checkbox labels: the feature names capitalised ({@code ASM} stays as it is). */
    static String[] featureLabels() {
        String[] labels = new String[Texture.FEATURES.length];
        for (int i = 0; i < labels.length; i++) {
            String name = Texture.FEATURES[i];
            labels[i] = name.substring(0, 1).toUpperCase(Locale.ROOT) + name.substring(1);
        }
        return labels;
    }

    /** Numbers separated by spaces and/or commas. */
    static double[] parseDoubles(String field, String text) {
        String trimmed = text == null ? "" : text.trim();
        if (trimmed.isEmpty()) {
            return new double[0];
        }
        String[] parts = trimmed.split("[,;\\s]+");
        double[] values = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                values[i] = Double.parseDouble(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(field + ": '" + parts[i] + "' is not a number.");
            }
        }
        return values;
    }

    /** Whole numbers separated by spaces and/or commas. */
    static int[] parseInts(String field, String text) {
        double[] values = parseDoubles(field, text);
        int[] ints = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            if (values[i] != Math.rint(values[i]) || Math.abs(values[i]) > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(field + ": " + values[i] + " is not a whole number.");
            }
            ints[i] = (int) values[i];
        }
        return ints;
    }

    // ------------------------------------------------------------------ scripting API

    /**
     * Computes the texture of every slice of {@code imp}, adds one row of whole-image values
     * per slice to {@code table} (or, if null, to the table {@value #TABLE_TITLE}, shown
     * unless headless) and returns the 32-bit feature maps (not shown): one slice per
     * result for a single image, a hyperstack (results as channels) for a stack. With a
     * non-rectangular selection on {@code imp}, map pixels outside it are NaN (the table's
     * values stay those of the whole image).
     *
     * @throws IllegalArgumentException for bad settings or NaN/infinite pixels
     */
    public static ImagePlus texture(ImagePlus imp, Texture.Params params, ResultsTable table) {
        return texture(imp, params, true, table);
    }

    /**
     * As {@link #texture(ImagePlus, Texture.Params, ResultsTable)}; with
     * {@code excludeDataBar}, each slice's instrument data bar ({@link DataBar}) is left out
     * of the texture (maps NaN there, table values of the kept rows) and reported in the
     * column {@code Excluded rows}.
     */
    public static ImagePlus texture(ImagePlus imp, Texture.Params params, boolean excludeDataBar,
                                    ResultsTable table) {
        if (imp == null || params == null) {
            throw new IllegalArgumentException("no image or no texture settings given");
        }
        ImageStack source = imp.getStack();
        DataBar[] bars = new DataBar[source.getSize()];
        List<TextureResult> results = CommandSupport.mapSlices(source, "computing texture of", i -> {
            ImageProcessor ip = source.getProcessor(i);
            bars[i - 1] = excludeDataBar ? DataBar.detect(ip) : DataBar.NONE;
            return Texture.analyse(DataBarRows.kept(ip, bars[i - 1]), params, true, true);
        });
        CommandSupport.addRows(table, TABLE_TITLE, t -> addRows(t, imp, results, bars));
        ImageStack stack = new ImageStack(imp.getWidth(), imp.getHeight());
        SelectionMask mask = SelectionMask.of(imp);
        for (int r = 0; r < results.size(); r++) {
            TextureResult result = results.get(r);
            String[] names = result.names();
            for (int m = 0; m < names.length; m++) {
                FloatProcessor map = DataBarRows.expand(result.map(m), bars[r], imp.getHeight());
                if (mask != null) {
                    mask.clearOutside(map);
                }
                stack.addSlice(names[m], map);
            }
        }
        int perPlane = results.get(0).size();
        ImagePlus maps = CommandSupport.derivedImage(imp, CommandSupport.derivedTitle(imp.getTitle(), SUFFIX),
                stack, perPlane, false);
        maps.resetDisplayRange();
        maps.setProperty("Info", "Visual-CCC GLCM texture maps of " + imp.getTitle() + "\nSettings: " + params
                + "\nBorders: the window is zero-padded (outside pixels count as level 0).\n");
        return maps;
    }

    /** Appends one row per slice: {@code Image}, {@code Slice}, then one column per result. */
    public static void addRows(ResultsTable table, ImagePlus imp, List<TextureResult> results) {
        DataBar[] none = new DataBar[results.size()];
        java.util.Arrays.fill(none, DataBar.NONE);
        addRows(table, imp, results, none);
    }

    /** As {@link #addRows(ResultsTable, ImagePlus, List)}, with each slice's data bar. */
    public static void addRows(ResultsTable table, ImagePlus imp, List<TextureResult> results, DataBar[] bars) {
        for (int i = 0; i < results.size(); i++) {
            TextureResult result = results.get(i);
            CommandSupport.startRow(table, imp, i + 1);
            String[] names = result.names();
            double[] values = result.values();
            for (int m = 0; m < names.length; m++) {
                CommandSupport.addValue(table, names[m], values[m], 6);
            }
            table.addValue("Excluded rows", bars[i].excludedRows());
        }
    }
}
