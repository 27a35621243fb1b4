package org.visualccc.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.Macro;
import ij.Prefs;
import ij.gui.GenericDialog;
import ij.gui.ImageRoi;
import ij.gui.Overlay;
import ij.gui.TextRoi;
import ij.measure.ResultsTable;
import ij.plugin.LutLoader;
import ij.plugin.PlugIn;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.LUT;
import org.visualccc.BundledModels;
import org.visualccc.ClassProbabilities;
import org.visualccc.Classification;
import org.visualccc.DataBar;
import org.visualccc.Model;

import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.awt.image.IndexColorModel;
import java.io.File;
import java.io.FilenameFilter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plugins › Visual-CCC › Classify Morphology...: classifies every slice of the active
 * image, lists the class probabilities in the table {@value #TABLE_TITLE} and shows the
 * class activation map (CAM) of the predicted class as a heat-map image and/or overlay.
 *
 * <p>Macro (recordable), e.g.
 * <pre>
 * run("Classify Morphology...", "model=[fixture-tiny (untrained test fixture)] heatmap_opacity=40 show_heatmap_image add_overlay colour_bar");
 * run("Classify Morphology...", "model_file=/path/to/model.onnx heatmap_opacity=40 show_heatmap_image");
 * </pre>
 * Keys: {@code model} (a choice: the file name of a model in
 * {@code <imagej>/models/visual-ccc/} or in {@code -Dvisualccc.models.dir}, or the
 * bundled fixture), {@code model_file} (any model path; wins when non-empty),
 * {@code heatmap_opacity} (0-100), {@code show_heatmap_image}, {@code add_overlay},
 * {@code colour_bar} (a {@link ColourBar} legend in the overlay); {@code exclude_data_bar}
 * (on in the dialog: the instrument data bar found in the first slice, {@link DataBar}, is
 * left out of every slice's classification and CAM, which is 0 there; the column
 * {@code Excluded rows} says how many rows); for multi-channel images
 * {@code channels} ({@code current}, the default, or {@code all}).
 *
 * <p>With an area selection, the part of each slice inside its bounding rectangle is
 * classified. The user's image is never modified; only an overlay is added when asked for
 * (earlier Visual-CCC overlay items are replaced). In the heat-map image, pixels outside
 * the analysed region are 0.
 *
 * <p>Scripting: {@link #classify(ImagePlus, String, double, boolean, boolean)}.
 */
public class ClassifyMorphology implements PlugIn {
    /** Title of the results table. */
    public static final String TABLE_TITLE = "Visual-CCC Classification";
    /** System property: an extra directory whose {@code *.onnx} files are offered as models. */
    public static final String MODELS_DIR_PROPERTY = "visualccc.models.dir";
    /** Default heat-map opacity in percent. */
    public static final double DEFAULT_OPACITY = 40;
    /** Name (prefix) of the overlay items this command adds. */
    public static final String OVERLAY_NAME = "Visual-CCC CAM";
    /** Suffix of the heat-map image title: {@code <image title without extension>-CAM}. */
    public static final String HEATMAP_SUFFIX = "-CAM";

    private static final String PREF_MODEL = "visualccc.model";
    private static final String PREF_MODEL_FILE = "visualccc.modelFile";
    private static final String PREF_OPACITY = "visualccc.opacity";
    private static final String PREF_SHOW_HEATMAP = "visualccc.showHeatmap";
    private static final String PREF_ADD_OVERLAY = "visualccc.addOverlay";
    private static final String PREF_COLOUR_BAR = "visualccc.colourBar";
    /** Marks the bundled fixture in the model map (it is extracted only when chosen). */
    private static final String BUNDLED_PREFIX = "bundled:";

    private static boolean noTrainedModelLogged;

    @Override
    public void run(String arg) {
        ImagePlus imp = CommandSupport.currentImage();
        if (imp == null) {
            return;
        }
        Map<String, String> models = availableModels();
        boolean trained = false;
        for (Map.Entry<String, String> entry : models.entrySet()) {
            trained |= !entry.getKey().equals(BundledModels.FIXTURE_TINY_LABEL);
        }
        if (!trained && !noTrainedModelLogged) {
            noTrainedModelLogged = true;
            IJ.log("Visual-CCC: no trained model is installed. Put trained *.onnx models into "
                    + describe(imageJModelsDir()) + " (or a folder named by -D" + MODELS_DIR_PROPERTY
                    + "=...), or enter a model file in the dialog.");
        }

        boolean macro = Macro.getOptions() != null;
        String[] labels = models.keySet().toArray(new String[0]);
        String defaultModel = macro ? null : Prefs.get(PREF_MODEL, null);
        if (defaultModel == null || !models.containsKey(defaultModel)) {
            defaultModel = labels.length > 0 ? labels[0] : "";
        }

        GenericDialog gd = new GenericDialog("Visual-CCC: Classify Morphology");
        if (labels.length > 0) {
            gd.addChoice("Model", labels, defaultModel);
        }
        gd.addStringField("Model_file", macro ? "" : Prefs.get(PREF_MODEL_FILE, ""), 30);
        gd.addMessage("A model file, if given, is used instead of the choice above.");
        gd.addSlider("Heatmap_opacity", 0, 100, macro ? DEFAULT_OPACITY : Prefs.get(PREF_OPACITY, DEFAULT_OPACITY));
        gd.addCheckbox("Show_heatmap_image", !macro && Prefs.get(PREF_SHOW_HEATMAP, true));
        gd.addCheckbox("Add_overlay", !macro && Prefs.get(PREF_ADD_OVERLAY, true));
        gd.addCheckbox("Colour_bar", !macro && Prefs.get(PREF_COLOUR_BAR, true));
        gd.addCheckbox("Exclude_data_bar", DataBar.excludedByDefault());
        if (imp.getNChannels() > 1) {
            gd.addChoice("Channels", CommandSupport.CHANNEL_CHOICES, CommandSupport.CHANNEL_CHOICES[0]);
        }
        if (!trained) {
            gd.addMessage("No trained model installed: put *.onnx models into\n" + describe(imageJModelsDir()));
        }
        gd.showDialog();
        if (gd.wasCanceled()) {
            return;
        }
        String choice = labels.length > 0 ? gd.getNextChoice() : "";
        String modelFile = gd.getNextString().trim();
        double opacity = gd.getNextNumber();
        boolean showHeatmap = gd.getNextBoolean();
        boolean addOverlay = gd.getNextBoolean();
        boolean colourBar = gd.getNextBoolean();
        boolean excludeDataBar = gd.getNextBoolean();
        int channel = imp.getNChannels() > 1 && gd.getNextChoice().equals(CommandSupport.CHANNEL_CHOICES[0])
                ? imp.getChannel() : 0;
        if (gd.invalidNumber() || Double.isNaN(opacity) || opacity < 0 || opacity > 100) {
            CommandSupport.fail("Heatmap opacity must be a number from 0 to 100.");
            return;
        }
        if (!macro) {
            Prefs.set(PREF_MODEL, choice);
            Prefs.set(PREF_MODEL_FILE, modelFile);
            Prefs.set(PREF_OPACITY, opacity);
            Prefs.set(PREF_SHOW_HEATMAP, showHeatmap);
            Prefs.set(PREF_ADD_OVERLAY, addOverlay);
            Prefs.set(PREF_COLOUR_BAR, colourBar);
        }
        String modelPath = !modelFile.isEmpty() ? modelFile : models.get(choice);
        if (modelPath == null) {
            CommandSupport.fail("No model chosen. Put trained *.onnx models into " + describe(imageJModelsDir())
                    + " or enter a model file.");
            return;
        }
        CommandSupport.guarded(() -> {
            try (Model model = openModel(modelPath)) {
                classify(imp, model, opacity, showHeatmap, addOverlay, channel, excludeDataBar);
            }
            if (addOverlay && colourBar) {
                ColourBar.add(imp, OVERLAY_NAME);
            }
        });
    }

    // ------------------------------------------------------------------ scripting API

    /**
     * Classifies every slice of {@code imp} with the model at {@code modelPath}, adds one
     * row per slice to the table {@value #TABLE_TITLE} (shown unless headless) and returns
     * it.
     *
     * @param modelPath   an ONNX model file, or {@link BundledModels#FIXTURE_TINY_LABEL} /
     *                    {@link BundledModels#FIXTURE_TINY} for the bundled untrained fixture
     *                    or a bundled trained model's name ({@link BundledModels#TRAINED})
     * @param opacity     overlay opacity in percent, 0-100
     * @param showHeatmap show the CAM as a new 32-bit image {@code <title without extension>-CAM}
     * @param addOverlay  add the coloured CAM to {@code imp}'s overlay
     * @throws IllegalArgumentException for bad arguments or images the model cannot take
     * @throws VisualCccException       for model, runtime and other native errors
     * @throws UnsatisfiedLinkError     if the native library cannot be loaded
     */
    public static ResultsTable classify(ImagePlus imp, String modelPath, double opacity, boolean showHeatmap,
                                        boolean addOverlay) {
        if (imp == null) {
            throw new IllegalArgumentException("no image given");
        }
        checkOpacity(opacity);
        try (Model model = openModel(modelPath)) {
            return classify(imp, model, opacity, showHeatmap, addOverlay);
        }
    }

    /** As {@link #classify(ImagePlus, String, double, boolean, boolean)} with an open model. */
    public static ResultsTable classify(ImagePlus imp, Model model, double opacity, boolean showHeatmap,
                                        boolean addOverlay) {
        return classify(imp, model, opacity, showHeatmap, addOverlay, 0);
    }

    /**
     * As {@link #classify(ImagePlus, Model, double, boolean, boolean)} for channel
     * {@code channel} of a multi-channel image only (all its slices and frames), or every
     * plane if {@code channel} is 0; the overlay goes on {@code imp} at those planes.
     */
    static ResultsTable classify(ImagePlus imp, Model model, double opacity, boolean showHeatmap,
                                 boolean addOverlay, int channel) {
        return classify(imp, model, opacity, showHeatmap, addOverlay, channel, true);
    }

    /**
     * As {@link #classify(ImagePlus, Model, double, boolean, boolean)}, for one channel (or
     * all with 0); with {@code excludeDataBar}, the data bar of the first slice
     * ({@link DataBar}) is left out of every slice.
     */
    static ResultsTable classify(ImagePlus imp, Model model, double opacity, boolean showHeatmap,
                                 boolean addOverlay, int channel, boolean excludeDataBar) {
        if (imp == null || model == null) {
            throw new IllegalArgumentException("no image or no model given");
        }
        checkOpacity(opacity);
        String label = modelLabel(model);
        if (model.isFixture()) {
            IJ.log("Visual-CCC: " + label + ": this is an untrained test fixture; its predictions mean "
                    + "nothing. Install a trained model in " + describe(imageJModelsDir()) + ".");
        }
        boolean wantCam = showHeatmap || addOverlay;
        if (wantCam && !model.hasFeatures()) {
            IJ.log("Visual-CCC: " + label + " has no feature output, so no heat map can be made; "
                    + "classifying without one.");
            wantCam = false;
        }
        ImagePlus source = channel > 0 ? CommandSupport.channel(imp, channel) : imp;
        // With an area selection, the part inside its bounding rectangle is classified.
        ImagePlus target = CommandSupport.withinSelection(source);
        Rectangle selection = target == source ? new Rectangle() : CommandSupport.selectionBounds(imp);
        DataBar bar = excludeDataBar ? DataBar.detect(target.getStack().getProcessor(1)) : DataBar.NONE;
        target = DataBarRows.kept(target, bar);
        selection = DataBarRows.shifted(selection, bar);
        List<Classification> results = classifySlices(target, model,
                wantCam ? Model.CAM_PREDICTED : Model.CAM_NONE);

        ResultsTable table = CommandSupport.openTable(TABLE_TITLE);
        addRows(table, source, label, results, bar.excludedRows());
        CommandSupport.showTable(table, TABLE_TITLE);
        if (wantCam && addOverlay) {
            addOverlay(imp, results, opacity, selection.x, selection.y, source == imp ? 0 : channel);
        }
        if (wantCam && showHeatmap) {
            createHeatmap(source, results, label, selection.x, selection.y).show();
        }
        return table;
    }

    /**
     * Classifies each slice of {@code imp} (stack order), showing progress.
     *
     * @param camClass {@link Model#CAM_PREDICTED}, {@link Model#CAM_NONE} or a class index
     */
    public static List<Classification> classifySlices(ImagePlus imp, Model model, int camClass) {
        ImageStack stack = imp.getStack();
        return CommandSupport.mapSlices(stack, "classifying", i -> model.classify(stack.getProcessor(i), camClass));
    }

    /**
     * Appends one row per classification: {@code Image}, {@code Slice}, {@code Model},
     * {@code Class} and {@code P(<class>)} for each class.
     */
    public static void addRows(ResultsTable table, ImagePlus imp, String modelLabel, List<Classification> results) {
        addRows(table, imp, modelLabel, results, 0);
    }

    /** As {@link #addRows(ResultsTable, ImagePlus, String, List)}, with the data-bar rows left out. */
    public static void addRows(ResultsTable table, ImagePlus imp, String modelLabel, List<Classification> results,
                               int excludedRows) {
        for (int i = 0; i < results.size(); i++) {
            Classification c = results.get(i);
            CommandSupport.startRow(table, imp, i + 1);
            table.addValue("Model", modelLabel);
            table.addValue("Class", c.predictedClass());
            String[] names = c.classNames();
            double[] p = c.probabilities();
            for (int k = 0; k < names.length; k++) {
                CommandSupport.addValue(table, "P(" + names[k] + ")", p[k], 6);
            }
            table.addValue("Excluded rows", excludedRows);
            addUnfamiliar(table, c);
        }
    }

    /**
     * {@code Unfamiliar} (1 when the image is unlike the model's training data, so its
     * class is a guess; else 0) and {@code Unfamiliarity} (the score compared with the
     * model's threshold), for models that have one.
     */
    static void addUnfamiliar(ResultsTable table, ClassProbabilities c) {
        if (!c.hasUnfamiliarThreshold()) {
            return;
        }
        table.addValue("Unfamiliar", c.isUnfamiliar() ? 1 : 0);
        CommandSupport.addValue(table, "Unfamiliarity", c.unfamiliarity(), 4);
    }

    /**
     * For an unfamiliar image, a caption in the overlay's top-left corner (at x, y) saying
     * that its class is a guess; nothing for other images.
     */
    static void addUnfamiliarCaption(Overlay overlay, ImagePlus imp, ClassProbabilities c, int x, int y,
                                     String name, int index, int channel) {
        if (!c.isUnfamiliar()) {
            return;
        }
        String text = String.format(java.util.Locale.ROOT, "Unfamiliar image: '%s' (P = %.2f) is a guess",
                c.predictedClass(), c.probability(c.predictedIndex()));
        int size = Math.max(12, imp.getWidth() / 45);
        TextRoi caption = new TextRoi(x + size / 2, y + size / 2, text, new Font("SansSerif", Font.BOLD, size));
        caption.setStrokeColor(Color.YELLOW);
        caption.setFillColor(new Color(0, 0, 0, 160));
        caption.setName(name + " caption");
        CommandSupport.placeOnPlane(caption, imp, index, channel);
        overlay.add(caption);
    }

    /**
     * A 32-bit image (stack) the size of {@code imp} holding each slice's CAM at its
     * region; pixels outside the region are 0. Fire LUT, display range 0-1, spatial
     * calibration of {@code imp}.
     */
    public static ImagePlus createHeatmap(ImagePlus imp, List<Classification> results, String modelLabel) {
        return createHeatmap(imp, results, modelLabel, 0, 0);
    }

    /** As {@link #createHeatmap(ImagePlus, List, String)} for results of the part of {@code imp} at (dx, dy). */
    static ImagePlus createHeatmap(ImagePlus imp, List<Classification> results, String modelLabel, int dx, int dy) {
        int width = imp.getWidth();
        int height = imp.getHeight();
        ImageStack source = imp.getStack();
        ImageStack stack = new ImageStack(width, height);
        for (int i = 0; i < results.size(); i++) {
            FloatProcessor fp = new FloatProcessor(width, height);
            Classification c = results.get(i);
            if (c.hasCam()) {
                FloatProcessor cam = regionCam(c);
                fp.insert(cam, c.regionX() + dx, c.regionY() + dy);
            }
            stack.addSlice(source.getSize() == results.size() ? source.getSliceLabel(i + 1) : null, fp);
        }
        ImagePlus heatmap = CommandSupport.derivedImage(imp, heatmapTitle(imp.getTitle()), stack, 1, false);
        heatmap.setLut(new LUT(heatLut(), 0, 1));
        heatmap.setDisplayRange(0, 1);
        StringBuilder info = new StringBuilder("Visual-CCC class activation map (0 outside the analysed region)\n");
        info.append("Source: ").append(imp.getTitle()).append('\n');
        info.append("Model: ").append(modelLabel).append('\n');
        for (int i = 0; i < results.size(); i++) {
            Classification c = results.get(i);
            info.append("Slice ").append(i + 1).append(": ").append(c).append('\n');
        }
        heatmap.setProperty("Info", info.toString());
        return heatmap;
    }

    /**
     * Adds the coloured CAM of each slice to {@code imp}'s overlay as an {@link ImageRoi}
     * with the given opacity (percent), replacing earlier Visual-CCC overlay items.
     * The image's pixels are not touched.
     */
    public static void addOverlay(ImagePlus imp, List<Classification> results, double opacity) {
        addOverlay(imp, results, opacity, 0, 0, 0);
    }

    /**
     * As {@link #addOverlay(ImagePlus, List, double)} for results of the part of {@code imp}
     * at (dx, dy): of every plane if {@code channel} is 0, else of channel {@code channel}'s
     * planes (z, then t).
     */
    static void addOverlay(ImagePlus imp, List<Classification> results, double opacity, int dx, int dy,
                           int channel) {
        checkOpacity(opacity);
        Overlay overlay = imp.getOverlay();
        if (overlay == null) {
            overlay = new Overlay();
        } else {
            for (int i = overlay.size() - 1; i >= 0; i--) {
                String name = overlay.get(i).getName();
                if (name != null && name.startsWith(OVERLAY_NAME)) {
                    overlay.remove(i);
                }
            }
        }
        IndexColorModel lut = heatLut();
        // Results of the first slices of a stack (or of all of them) belong on those slices.
        boolean stack = imp.getStackSize() > 1 && results.size() <= imp.getStackSize();
        for (int i = 0; i < results.size(); i++) {
            Classification c = results.get(i);
            if (!c.hasCam()) {
                continue;
            }
            ImageRoi roi = new ImageRoi(c.regionX() + dx, c.regionY() + dy, colourise(regionCam(c), lut));
            roi.setOpacity(opacity / 100.0);
            roi.setName(stack ? OVERLAY_NAME + " " + (i + 1) : OVERLAY_NAME);
            CommandSupport.placeOnPlane(roi, imp, i, channel);
            overlay.add(roi);
            addUnfamiliarCaption(overlay, imp, c, c.regionX() + dx, c.regionY() + dy, roi.getName(), i, channel);
        }
        imp.setOverlay(overlay);
    }

    /**
     * Title of the heat-map image: the image title without a file extension (if it has
     * one of 1-5 letters or digits) plus {@value #HEATMAP_SUFFIX}; {@code blobs.gif} gives
     * {@code blobs-CAM}, {@code my image} gives {@code my image-CAM}.
     */
    public static String heatmapTitle(String title) {
        return CommandSupport.derivedTitle(title, HEATMAP_SUFFIX);
    }

    /** The CAM of {@code c} at the size of its region (resampled if the sizes differ). */
    private static FloatProcessor regionCam(Classification c) {
        FloatProcessor cam = new FloatProcessor(c.camWidth(), c.camHeight(), c.cam());
        if (c.camWidth() != c.regionWidth() || c.camHeight() != c.regionHeight()) {
            cam.setInterpolationMethod(ImageProcessor.BILINEAR);
            cam = (FloatProcessor) cam.resize(Math.max(1, c.regionWidth()), Math.max(1, c.regionHeight()));
        }
        return cam;
    }

    /** Maps values in [0, 1] through {@code lut} to RGB. */
    static ColorProcessor colourise(FloatProcessor cam, IndexColorModel lut) {
        int size = lut.getMapSize();
        int n = cam.getPixelCount();
        float[] values = (float[]) cam.getPixels();
        int[] rgb = new int[n];
        for (int i = 0; i < n; i++) {
            float v = values[i];
            int index = v >= 1f ? size - 1 : v > 0f ? (int) (v * (size - 1) + 0.5f) : 0;
            rgb[i] = lut.getRGB(index) & 0xffffff;
        }
        return new ColorProcessor(cam.getWidth(), cam.getHeight(), rgb);
    }

    /** ImageJ's "Fire" LUT, or a grey ramp if it is not available. */
    static IndexColorModel heatLut() {
        IndexColorModel fire = LutLoader.getLut("fire");
        if (fire != null) {
            return fire;
        }
        byte[] ramp = new byte[256];
        for (int i = 0; i < 256; i++) {
            ramp[i] = (byte) i;
        }
        return new IndexColorModel(8, 256, ramp, ramp, ramp);
    }

    static void checkOpacity(double opacity) {
        if (Double.isNaN(opacity) || opacity < 0 || opacity > 100) {
            throw new IllegalArgumentException("heatmap opacity must be 0-100 (percent), not " + opacity);
        }
    }

    // ------------------------------------------------------------------ models

    /**
     * The label shown in the {@code Model} column: the file name without {@code .onnx},
     * plus {@code (untrained test fixture)} for fixture models.
     */
    public static String modelLabel(Model model) {
        String name = new File(model.path()).getName();
        if (name.toLowerCase().endsWith(".onnx")) {
            name = name.substring(0, name.length() - 5);
        }
        return model.isFixture() ? name + " (untrained test fixture)" : name;
    }

    /**
     * Models offered in the dialog, label → path: every {@code *.onnx} in
     * {@code <imagej>/models/visual-ccc/} and in {@code -Dvisualccc.models.dir}, after the bundled
     * trained models ({@link BundledModels#TRAINED}) and before the bundled fixture ({@link BundledModels#FIXTURE_TINY_LABEL}).
     */
    public static Map<String, String> availableModels() {
        Map<String, String> models = new LinkedHashMap<String, String>();
        for (String name : BundledModels.TRAINED) {
            // first, so that the shipped morphology model is the default choice
            if (BundledModels.isBundled(name)) {
                models.put(name, BUNDLED_PREFIX + name);
            }
        }
        List<File> dirs = new ArrayList<File>();
        File imagej = imageJModelsDir();
        if (imagej != null) {
            dirs.add(imagej);
        }
        String extra = System.getProperty(MODELS_DIR_PROPERTY);
        if (extra != null && !extra.trim().isEmpty()) {
            dirs.add(new File(extra.trim()));
        }
        for (File dir : dirs) {
            File[] files = dir.listFiles(new FilenameFilter() {
                @Override
                public boolean accept(File d, String name) {
                    return name.toLowerCase().endsWith(".onnx");
                }
            });
            if (files == null) {
                continue;
            }
            Arrays.sort(files);
            for (File f : files) {
                if (!f.isFile() || models.containsValue(f.getAbsolutePath())) {
                    continue;
                }
                String label = f.getName();
                if (models.containsKey(label) || label.equals(BundledModels.FIXTURE_TINY_LABEL)) {
                    label = f.getName() + " (" + dir.getPath() + ")";
                }
                models.put(label, f.getAbsolutePath());
            }
        }
        if (BundledModels.isBundled(BundledModels.FIXTURE_TINY)) {
            models.put(BundledModels.FIXTURE_TINY_LABEL, BUNDLED_PREFIX + BundledModels.FIXTURE_TINY);
        }
        return Collections.unmodifiableMap(models);
    }

    /** {@code <imagej>/models/visual-ccc}, or null outside ImageJ. */
    public static File imageJModelsDir() {
        String imagej = IJ.getDirectory("imagej");
        return imagej == null ? null : new File(new File(imagej, "models"), "visual-ccc");
    }

    static String describe(File dir) {
        return dir == null ? "Fiji.app/models/visual-ccc/" : dir.getPath() + File.separator;
    }

    /** Opens the model named as {@link #resolveModel} accepts; the caller closes it. */
    static Model openModel(String modelPath) {
        File file = resolveModel(modelPath);
        if (!file.isFile()) {
            throw new IllegalArgumentException("model file " + file.getPath() + " does not exist"
                    + (file.exists() ? " (it is a folder)" : ""));
        }
        return Model.open(file.getPath());
    }

    /** A model path, the fixture label or name, or a dialog map value → a model file. */
    static File resolveModel(String modelPath) {
        if (modelPath == null || modelPath.trim().isEmpty()) {
            throw new IllegalArgumentException("no model given");
        }
        String path = modelPath.trim();
        if (path.startsWith(BUNDLED_PREFIX)) {
            return BundledModels.extract(path.substring(BUNDLED_PREFIX.length()));
        }
        if (path.equals(BundledModels.FIXTURE_TINY_LABEL) || path.equals(BundledModels.FIXTURE_TINY)) {
            return BundledModels.extract(BundledModels.FIXTURE_TINY);
        }
        if (BundledModels.TRAINED.contains(path) && !new File(path).exists() && BundledModels.isBundled(path)) {
            return BundledModels.extract(path);
        }
        return new File(path);
    }
}
