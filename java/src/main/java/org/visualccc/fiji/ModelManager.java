package org.visualccc.fiji;

import ij.IJ;
import ij.measure.ResultsTable;
import ij.text.TextWindow;
import org.visualccc.Model;

import java.awt.GraphicsEnvironment;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Map;

/**
 * Plugins › Visual-CCC › Model Manager...: lists the bundled and installed models with their
 * classes, input size and kind in the table {@value #TABLE_TITLE}; installs an ONNX model
 * file (checked against the model contract first) or a BioImage Model Zoo package (its
 * {@code .zip} or {@code rdf.yaml}, imported as Import BioImage Model... does) into
 * {@code <imagej>/models/visual-ccc/}; shows a model's card.
 *
 * <p>Macro (recordable), e.g.
 * <pre>
 * run("Model Manager...", "action=[List models]");
 * run("Model Manager...", "action=[Install model file] file=/path/to/model.onnx");
 * run("Model Manager...", "action=[Install model file] file=/path/to/bioimageio-model.zip");
 * run("Model Manager...", "action=[Show model card] model=[fixture-tiny (untrained test fixture)]");
 * </pre>
 * A model card is the file {@code <model>.md} (or {@code .txt}) next to the model, else the
 * model's own description. Installing copies the card along with the model.
 *
 * <p>Scripting: {@link #listModels(ResultsTable)}, {@link #install(File, File)},
 * {@link #modelCard(String)}.
 */
public class ModelManager implements ij.plugin.PlugIn {
    /** Title of the models table. */
    public static final String TABLE_TITLE = "Visual-CCC Models";
    /** {@code action} choices. */
    static final String[] ACTIONS = {"List models", "Install model file", "Show model card"};
    private static final String[] CARD_SUFFIXES = {".md", ".txt"};

    @Override
    public void run(String arg) {
        ModelField modelField = new ModelField();
        CommandDialog dialog = new CommandDialog("Visual-CCC: Model Manager", "visualccc.models.")
                .choice("Action", ACTIONS, ACTIONS[0])
                .message("Install model file: an ONNX file, or a BioImage Model Zoo .zip or rdf.yaml.")
                .string("File", "", 30)
                .message("Show model card: the model.");
        modelField.addTo(dialog);
        if (!dialog.show()) {
            return;
        }
        CommandSupport.guarded(() -> {
            int action = dialog.nextChoiceIndex();
            String file = dialog.nextString();
            String model = modelField.read(dialog);
            if (action == 0) {
                CommandSupport.showTable(listModels(CommandSupport.openTable(TABLE_TITLE)), TABLE_TITLE);
            } else if (action == 1) {
                if (file.isEmpty()) {
                    throw new IllegalArgumentException("no model file given");
                }
                File installed = install(new File(file), ClassifyMorphology.imageJModelsDir());
                IJ.log("Visual-CCC: installed " + installed + "; it is now offered in every model list.");
                CommandSupport.showTable(listModels(CommandSupport.openTable(TABLE_TITLE)), TABLE_TITLE);
            } else {
                show("Model card: " + model, modelCard(model));
            }
        });
    }

    private static void show(String title, String text) {
        if (GraphicsEnvironment.isHeadless() || IJ.getInstance() == null) {
            IJ.log(title + "\n" + text);
        } else {
            new TextWindow(title, text, 600, 400);
        }
    }

    // ------------------------------------------------------------------ scripting API

    /**
     * Replaces the rows of {@code table} with one row per available model: {@code Model}
     * (the label in model lists), {@code Kind}, {@code Input size}, {@code Classes},
     * {@code CAM} (whether it has feature maps), {@code Card} (yes/no), {@code Path}. A model
     * that cannot be opened gets its error in {@code Kind}.
     */
    public static ResultsTable listModels(ResultsTable table) {
        table.reset();
        for (Map.Entry<String, String> entry : ClassifyMorphology.availableModels().entrySet()) {
            table.incrementCounter();
            table.addValue("Model", entry.getKey());
            try {
                File file = ClassifyMorphology.resolveModel(entry.getValue());
                table.addValue("Path", file.getPath());
                table.addValue("Card", cardFile(file) != null ? "yes" : "no");
                try (Model model = Model.open(file.getPath())) {
                    table.addValue("Kind", model.kind());
                    table.addValue("Input size", model.inputSize());
                    table.addValue("Classes", String.join(" ", model.classNames()));
                    table.addValue("CAM", model.hasFeatures() ? "yes" : "no");
                }
            } catch (RuntimeException e) {
                table.addValue("Kind", "cannot open: " + e.getMessage());
            }
        }
        return table;
    }

    /**
     * Checks that {@code onnx} opens as a Visual-CCC model, then copies it (and its card,
     * if any) into {@code modelsDir} under its own name, atomically. A BioImage Model Zoo
     * package ({@code .zip}, {@code .yaml}) is imported instead
     * ({@link ImportBioimageModel#importPackage}).
     *
     * @return the installed model file
     * @throws IllegalArgumentException if the file is missing or does not follow the model contract,
     *                                  or a different model of that name is installed
     * @throws org.visualccc.VisualCccException if a package cannot be imported (with the reason)
     */
    public static File install(File onnx, File modelsDir) {
        if (onnx == null || !onnx.isFile()) {
            throw new IllegalArgumentException("model file " + onnx + " does not exist");
        }
        if (modelsDir == null) {
            throw new IllegalArgumentException("no models folder (not running inside ImageJ)");
        }
        String name = onnx.getName().toLowerCase();
        if (name.endsWith(".zip") || name.endsWith(".yaml") || name.endsWith(".yml")) {
            return ImportBioimageModel.importPackage(onnx.getPath(), modelsDir.getPath());
        }
        if (!name.endsWith(".onnx")) {
            throw new IllegalArgumentException(onnx.getName()
                    + " is not an .onnx file or a BioImage Model Zoo package (.zip, rdf.yaml)");
        }
        try (Model model = Model.open(onnx.getPath())) {
            IJ.log("Visual-CCC: " + onnx.getName() + ": " + model.kind() + " model, classes "
                    + Arrays.toString(model.classNames()) + ", input " + model.inputSize() + " px");
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(onnx.getName() + " is not a usable Visual-CCC model: "
                    + e.getMessage(), e);
        }
        try {
            File target = new File(modelsDir, onnx.getName());
            Files.createDirectories(modelsDir.toPath());
            if (target.isFile() && !Arrays.equals(Files.readAllBytes(target.toPath()),
                    Files.readAllBytes(onnx.toPath()))) {
                throw new IllegalArgumentException("a different model " + target
                        + " is already installed; remove it first or rename the new file");
            }
            copyAtomically(onnx.toPath(), target.toPath());
            File card = cardFile(onnx);
            if (card != null) {
                String suffix = card.getName().substring(card.getName().lastIndexOf('.'));
                copyAtomically(card.toPath(), new File(modelsDir, baseName(onnx) + suffix).toPath());
            }
            return target;
        } catch (IOException e) {
            throw new IllegalStateException("cannot install into " + modelsDir + ": " + e.getMessage(), e);
        }
    }

    /** The card of a model (path, label or bundled name): its card file, else its description. */
    public static String modelCard(String modelPath) {
        File file = ClassifyMorphology.resolveModel(modelPath);
        File card = cardFile(file);
        if (card != null) {
            try {
                return new String(Files.readAllBytes(card.toPath()), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + card + ": " + e.getMessage(), e);
            }
        }
        try (Model model = Model.open(file.getPath())) {
            String description = model.description();
            return "No model card (" + baseName(file) + ".md) next to " + file + ".\n\nKind: " + model.kind()
                    + "\nClasses: " + String.join(", ", model.classNames()) + "\nInput size: " + model.inputSize()
                    + " px\nDescription: " + (description.isEmpty() ? "(none)" : description) + "\n";
        }
    }

    /** {@code <model>.md} or {@code <model>.txt} next to the model, or null. */
    static File cardFile(File model) {
        for (String suffix : CARD_SUFFIXES) {
            File card = new File(model.getAbsoluteFile().getParentFile(), baseName(model) + suffix);
            if (card.isFile()) {
                return card;
            }
        }
        return null;
    }

    private static String baseName(File model) {
        String name = model.getName();
        return name.toLowerCase().endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
    }

    private static void copyAtomically(Path from, Path to) throws IOException {
        Path part = to.resolveSibling(".part-" + to.getFileName());
        try {
            Files.copy(from, part, StandardCopyOption.REPLACE_EXISTING);
            Files.move(part, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(part);
        }
    }
}
