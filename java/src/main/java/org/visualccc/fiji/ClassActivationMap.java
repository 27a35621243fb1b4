package org.visualccc.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.ResultsTable;
import org.visualccc.Classification;
import org.visualccc.Model;

import java.awt.Rectangle;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Plugins › Visual-CCC › Class Activation Map...: explains the classification of every
 * slice of the active image with a chosen method, shows the map as a 32-bit image
 * {@code <title without extension>-CAM} (values 0-1, heat LUT, the image's calibration,
 * 0 outside the analysed region), adds it as an overlay on the original and lists one
 * row per slice in the table {@value #TABLE_TITLE}: {@code Image}, {@code Slice},
 * {@code Model}, {@code Method}, {@code Class} (predicted), {@code Explained class},
 * {@code P(explained)}.
 *
 * <p>Methods ({@link Model#CAM_METHODS}): {@code cam} (exact, equals Grad-CAM for this
 * head), {@code score-cam}, {@code eigen-cam} (class-agnostic) and {@code occlusion},
 * the only one for models without feature maps; asking such a model for another method
 * fails with a message that says so.
 *
 * <p>Macro (recordable), e.g.
 * <pre>
 * run("Class Activation Map...", "model=[fixture-tiny (untrained test fixture)] method=score-cam target_class=predicted overlay_opacity=40 colour_bar");
 * run("Class Activation Map...", "model_file=/path/to/model.onnx method=occlusion target_class=spheroid overlay_opacity=40");
 * </pre>
 * Keys: {@code model}, {@code model_file} (as in Classify Morphology), {@code method},
 * {@code target_class} ({@code predicted} or a class name), {@code overlay_opacity} (0-100),
 * {@code colour_bar} (a {@link ColourBar} legend in the overlay).
 *
 * <p>Scripting: {@link #explain(ImagePlus, String, String, String, double)}.
 */
public class ClassActivationMap extends AnalysisCommand {
    /** Title of the results table. */
    public static final String TABLE_TITLE = "Visual-CCC Activation Map";
    /** {@code target_class} value: explain the predicted class. */
    public static final String PREDICTED = "predicted";

    @Override
    CommandDialog createDialog(ImagePlus imp) {
        String[] labels = ClassifyMorphology.availableModels().keySet().toArray(new String[0]);
        CommandDialog dialog = new CommandDialog("Visual-CCC: Class Activation Map", "visualccc.cam.");
        if (labels.length > 0) {
            dialog.choice("Model", labels, labels[0]);
        }
        return dialog.string("Model_file", "", 30)
                .message("A model file, if given, is used instead of the choice above.")
                .choice("Method", Model.CAM_METHODS, Model.CAM_METHODS[0])
                .message("occlusion works with every model; the others need its feature maps.")
                .string("Target_class", PREDICTED, 16)
                .number("Overlay_opacity", ClassifyMorphology.DEFAULT_OPACITY, 0, "%")
                .checkbox("Colour_bar", true);
    }

    @Override
    boolean cropsToSelection() {
        return false; // explain() maps the selection and draws on the whole image
    }

    @Override
    void analyse(ImagePlus imp, CommandDialog dialog) {
        Map<String, String> models = ClassifyMorphology.availableModels();
        String choice = models.isEmpty() ? "" : dialog.nextChoice();
        String modelFile = dialog.nextString();
        String method = dialog.nextChoice();
        String target = dialog.nextString();
        double opacity = dialog.nextNumber();
        boolean colourBar = dialog.nextBoolean();
        String modelPath = !modelFile.isEmpty() ? modelFile : models.get(choice);
        if (modelPath == null) {
            throw new IllegalArgumentException("No model chosen: enter a model file.");
        }
        ImagePlus heatmap = explain(imp, modelPath, method, target, opacity);
        if (colourBar) {
            ColourBar.add(imp, ClassifyMorphology.OVERLAY_NAME);
        }
        heatmap.show();
    }

    // ------------------------------------------------------------------ scripting API

    /**
     * Explains every slice of {@code imp} with the model at {@code modelPath} (a file, or
     * the bundled fixture's label or name), adds the coloured map to {@code imp}'s overlay
     * with {@code opacity} percent, adds rows to the table {@value #TABLE_TITLE} (shown
     * unless headless) and returns the heat-map image (not shown).
     *
     * @param method      one of {@link Model#CAM_METHODS}
     * @param targetClass {@value #PREDICTED} (or empty) or one of the model's class names
     * @throws IllegalArgumentException for bad arguments or images the model cannot take
     * @throws org.visualccc.VisualCccException for model and runtime errors, e.g. a
     *                                          method that needs feature maps the model lacks
     */
    public static ImagePlus explain(ImagePlus imp, String modelPath, String method, String targetClass,
                                    double opacity) {
        if (imp == null) {
            throw new IllegalArgumentException("no image given");
        }
        try (Model model = ClassifyMorphology.openModel(modelPath)) {
            return explain(imp, model, method, targetClass, opacity);
        }
    }

    /** As {@link #explain(ImagePlus, String, String, String, double)} with an open model. */
    public static ImagePlus explain(ImagePlus imp, Model model, String method, String targetClass,
                                    double opacity) {
        if (imp == null || model == null) {
            throw new IllegalArgumentException("no image or no model given");
        }
        if (method == null || !Arrays.asList(Model.CAM_METHODS).contains(method)) {
            throw new IllegalArgumentException("unknown method '" + method + "' (methods: "
                    + String.join(", ", Model.CAM_METHODS) + ")");
        }
        if (Double.isNaN(opacity) || opacity < 0 || opacity > 100) {
            throw new IllegalArgumentException("overlay opacity must be 0-100 (percent), not " + opacity);
        }
        int camClass = classIndex(model, targetClass);
        String label = ClassifyMorphology.modelLabel(model);
        if (model.isFixture()) {
            IJ.log("Visual-CCC: " + label + ": this is an untrained test fixture; its maps mean nothing.");
        }
        // With an area selection, the part inside its bounding rectangle is explained and
        // the map drawn there, on the whole image.
        ImagePlus target = CommandSupport.withinSelection(imp);
        Rectangle selection = target == imp ? new Rectangle() : CommandSupport.selectionBounds(imp);
        ImageStack stack = target.getStack();
        List<Classification> results = CommandSupport.mapSlices(stack, "explaining",
                i -> model.activationMap(stack.getProcessor(i), method, camClass));
        CommandSupport.addRows(null, TABLE_TITLE, t -> addRows(t, imp, label, method, results));
        ClassifyMorphology.addOverlay(imp, results, opacity, selection.x, selection.y, 0);
        ImagePlus heatmap = ClassifyMorphology.createHeatmap(imp, results, label, selection.x, selection.y);
        heatmap.setProperty("Info", "Method: " + method + "\n" + heatmap.getProperty("Info"));
        return heatmap;
    }

    /** {@link Model#CAM_PREDICTED} for {@value #PREDICTED} or empty, else the named class's index. */
    static int classIndex(Model model, String targetClass) {
        String name = targetClass == null ? "" : targetClass.trim();
        if (name.isEmpty() || name.equalsIgnoreCase(PREDICTED)) {
            return Model.CAM_PREDICTED;
        }
        String[] classes = model.classNames();
        int index = Arrays.asList(classes).indexOf(name);
        if (index < 0) {
            throw new IllegalArgumentException("the model has no class '" + name + "' (classes: "
                    + String.join(", ", classes) + ", or " + PREDICTED + ")");
        }
        return index;
    }

    /** One row per slice (see the class documentation for the columns). */
    public static void addRows(ResultsTable table, ImagePlus imp, String modelLabel, String method,
                               List<Classification> results) {
        for (int i = 0; i < results.size(); i++) {
            Classification c = results.get(i);
            CommandSupport.startRow(table, imp, i + 1);
            table.addValue("Model", modelLabel);
            table.addValue("Method", method);
            table.addValue("Class", c.predictedClass());
            table.addValue("Explained class", c.classNames()[c.camClass()]);
            CommandSupport.addValue(table, "P(explained)", c.probability(c.camClass()), 6);
        }
    }
}
