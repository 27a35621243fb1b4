package org.visualccc.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.gui.Roi;
import ij.io.FileSaver;
import ij.measure.ResultsTable;
import ij.plugin.PlugIn;
import ij.plugin.frame.RoiManager;
import ij.process.ImageProcessor;
import org.visualccc.Trainer;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plugins › Visual-CCC › Train Classifier...: trains a new classifier on a base model's
 * features from labelled images and saves it, with its card {@code <name>.md}, into the
 * models folder, where every command's model list offers it at once. The labelled images
 * come from a folder with one subfolder per class, from the open images (the class is
 * the title up to a separator: {@code dendrite_01.tif} is a {@code dendrite}), or from
 * the ROI Manager (ROIs named {@code class:<name>} on the current image; each ROI's
 * rectangle is one training crop). The results table gives each class's images and
 * cross-validated recall and the confusion matrix; the log gives the accuracy.
 *
 * <p>Macro (recordable):
 * <pre>
 * run("Train Classifier...", "source=folder folder=/data/labelled separator=_ model=morphology model_file=[] model_name=my-classifier models_folder=/path/to/Fiji.app/models/visual-ccc seed=0 tile_size=0");
 * </pre>
 *
 * <p>Scripting: {@link #train(String, String, String, ResultsTable, Settings)}.
 */
public class TrainClassifier implements PlugIn {
    static final String PREFS_PREFIX = "visualccc.train.";
    static final String[] SOURCES = {"folder", "open images", "ROI Manager"};
    static final String TABLE = "Visual-CCC Training";
    private static final String ROI_PREFIX = "class:";

    @Override
    public void run(String arg) {
        File models = ClassifyMorphology.imageJModelsDir();
        CommandDialog gd = new CommandDialog("Visual-CCC: Train Classifier", PREFS_PREFIX)
                .choice("Source", SOURCES, SOURCES[0])
                .directory("Folder", "")
                .string("Separator", "_", 4)
                .message("folder: one subfolder per class. open images: class = title up to the separator.\n"
                        + "ROI Manager: ROIs named class:<name> on the current image.");
        ModelField base = new ModelField().addTo(gd);
        Map<String, Object> defaults = Trainer.defaults();
        gd.string("Model_name", "my-classifier", 20)
                .directory("Models_folder", models == null ? "" : models.getPath())
                .number("Seed", ((Number) defaults.get("seed")).longValue(), 0, "")
                .number("Tile_size", ((Number) defaults.get("tile_size")).intValue(), 0,
                        "source px (0: the base model's)")
                .checkbox("Augment", (Boolean) defaults.get("augment"));
        if (!gd.show()) {
            return;
        }
        String source = gd.nextChoice();
        String folder = gd.nextString();
        String separator = gd.nextString();
        String baseModel = base.read(gd);
        String name = gd.nextString();
        String modelsFolder = gd.nextString();
        long seed = gd.nextInt();
        int tileSize = gd.nextInt();
        boolean augment = gd.nextBoolean();
        Settings settings = new Settings(seed, tileSize, augment);
        CommandSupport.guarded(() -> {
            File out = outputFile(modelsFolder, name);
            if (source.equals(SOURCES[0])) {
                train(baseModel, folder, out.getPath(), null, settings);
            } else {
                File labelled = source.equals(SOURCES[1]) ? fromOpenImages(separator) : fromRoiManager();
                try {
                    train(baseModel, labelled.getPath(), out.getPath(), null, settings);
                } finally {
                    deleteTree(labelled);
                }
            }
        });
    }

    /** {@code <modelsFolder>/<name>.onnx}, refusing names that are not plain file names. */
    static File outputFile(String modelsFolder, String name) {
        if (modelsFolder == null || modelsFolder.isEmpty()) {
            throw new IllegalArgumentException("choose the models folder the new model is saved into");
        }
        String plain = name == null ? "" : name.trim().replaceAll("(?i)\\.onnx$", "");
        if (plain.isEmpty() || !plain.matches("[A-Za-z0-9._-]+") || plain.startsWith(".")) {
            throw new IllegalArgumentException("Model name must be a plain file name (letters, digits, . _ -), not '"
                    + name + "'");
        }
        return new File(modelsFolder, plain + ".onnx");
    }

    /** Seed, tile size (0: the base model's) and augmentation; the dialog shows {@link Trainer#defaults()}. */
    public static final class Settings {
        final long seed;
        final int tileSize;
        final boolean augment;

        public Settings(long seed, int tileSize, boolean augment) {
            if (seed < 0 || tileSize < 0) {
                throw new IllegalArgumentException("Seed and Tile size must not be negative");
            }
            this.seed = seed;
            this.tileSize = tileSize;
            this.augment = augment;
        }
    }

    /**
     * Trains on {@code folder} (one subfolder per class) and fills {@code table} (the
     * table {@value #TABLE}, shown unless headless, when null) with one row per class.
     *
     * @return the table used
     */
    public static ResultsTable train(String baseModel, String folder, String outPath, ResultsTable table,
            Settings settings) {
        if (folder == null || folder.isEmpty()) {
            throw new IllegalArgumentException("choose the folder of labelled images (one subfolder per class)");
        }
        File base = ClassifyMorphology.resolveModel(baseModel);
        // A fresh Fiji has no models/visual-ccc folder yet.
        File parent = new File(outPath).getAbsoluteFile().getParentFile();
        if (parent != null && !parent.isDirectory() && !parent.mkdirs()) {
            throw new IllegalArgumentException("cannot create the models folder " + parent.getPath());
        }
        IJ.resetEscape();
        IJ.showStatus("Visual-CCC: training on " + folder);
        String json = Trainer.trainFolder(base.getPath(), folder, outPath, settings.seed, settings.tileSize,
                settings.augment, (done, total) -> {
            IJ.showProgress(done, total);
            IJ.showStatus("Visual-CCC: features of image " + done + "/" + total + " (Esc cancels)");
            return !IJ.escapePressed();
        });
        IJ.showProgress(1.0);
        TrainingReport report = TrainingReport.parse(json);
        IJ.log("Visual-CCC: trained " + report.model + " on " + report.total() + " images of "
                + report.classes.size() + " classes; " + report.accuracyText() + ". Card: " + report.card);
        for (String skipped : report.skipped) {
            IJ.log("Visual-CCC: skipped " + skipped);
        }
        return CommandSupport.addRows(table, TABLE, t -> report.addRows(t));
    }

    /** The open images saved as TIFFs into a temporary folder per class (title prefix). */
    static File fromOpenImages(String separator) {
        int[] ids = WindowManager.getIDList();
        if (ids == null || ids.length == 0) {
            throw new IllegalArgumentException("no open images to train on");
        }
        if (separator == null || separator.isEmpty()) {
            throw new IllegalArgumentException("Separator must not be empty");
        }
        File dir = temporaryFolder();
        for (int id : ids) {
            ImagePlus imp = WindowManager.getImage(id);
            String title = imp.getTitle();
            int cut = title.indexOf(separator);
            if (cut <= 0) {
                IJ.log("Visual-CCC: " + title + " left out: its title has no class before '" + separator + "'");
                continue;
            }
            save(imp.getProcessor(), new File(new File(dir, title.substring(0, cut)), plainName(title) + ".tif"));
        }
        return dir;
    }

    /** The ROI Manager's ROIs named {@code class:<name>} cropped from the current image; see {@link #fromRois}. */
    static File fromRoiManager() {
        return fromRois(CommandSupport.currentImage(), CommandSupport.roiManager().getRoisAsArray());
    }

    /**
     * The bounding rectangles of the {@code rois} named {@code class:<name>} cropped from
     * {@code imp} (the ROI's slice, else the current one) into a temporary folder per class.
     */
    static File fromRois(ImagePlus imp, Roi[] rois) {
        File dir = temporaryFolder();
        int used = 0;
        for (int i = 0; i < rois.length; i++) {
            String roiName = rois[i].getName();
            if (roiName == null || !roiName.toLowerCase(Locale.ROOT).startsWith(ROI_PREFIX)) {
                continue;
            }
            String label = roiName.substring(ROI_PREFIX.length()).trim();
            if (label.isEmpty()) {
                continue;
            }
            ImageProcessor ip = imp.getStack().getProcessor(Math.max(1, Math.min(rois[i].getPosition() == 0
                    ? imp.getCurrentSlice() : rois[i].getPosition(), imp.getStackSize()))).duplicate();
            ip.setRoi(rois[i].getBounds());
            String file = plainName(imp.getTitle()) + "-roi" + (i + 1) + ".tif";
            save(ip.crop(), new File(new File(dir, plainName(label)), file));
            used++;
        }
        if (used == 0) {
            deleteTree(dir);
            throw new IllegalArgumentException("no ROI named class:<name> in the ROI Manager");
        }
        return dir;
    }

    private static File temporaryFolder() {
        try {
            return Files.createTempDirectory("visual-ccc-train").toFile();
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a temporary folder: " + e.getMessage());
        }
    }

    private static void save(ImageProcessor ip, File file) {
        file.getParentFile().mkdirs();
        if (!new FileSaver(new ImagePlus(file.getName(), ip)).saveAsTiff(file.getPath())) {
            throw new IllegalStateException("cannot write " + file.getPath());
        }
    }

    /** {@code title} as a file name: without its extension, odd characters replaced. */
    static String plainName(String title) {
        return CommandSupport.derivedTitle(title, "").replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private static void deleteTree(File file) {
        File[] children = file.listFiles();
        if (children != null) {
            for (File child : children) {
                deleteTree(child);
            }
        }
        file.delete();
    }

    /** The parts of the native JSON report shown in Fiji (read without a JSON library). */
    static final class TrainingReport {
        final List<String> classes = new ArrayList<String>();
        final List<Integer> counts = new ArrayList<Integer>();
        final List<String> skipped = new ArrayList<String>();
        List<Integer> confusion = new ArrayList<Integer>();
        double accuracy = Double.NaN;
        String model = "";
        String card = "";

        static TrainingReport parse(String json) {
            TrainingReport r = new TrainingReport();
            for (String c : strings(field(json, "\"classes\":\\[([^\\]]*)\\]"))) {
                r.classes.add(c);
            }
            for (String n : field(json, "\"image_counts\":\\[([^\\]]*)\\]").split(",")) {
                r.counts.add(Integer.parseInt(n.trim()));
            }
            String confusion = field(json, "\"confusion\":\\[(\\[[^\"]*\\])\\]");
            for (String n : confusion.replaceAll("[\\[\\]]", " ").trim().split("[ ,]+")) {
                if (!n.isEmpty()) {
                    r.confusion.add(Integer.parseInt(n));
                }
            }
            String accuracy = field(json, "\"cross_validation\":\\{[^}]*?\"accuracy\":([0-9.eE+-]+)");
            r.accuracy = accuracy.isEmpty() ? Double.NaN : Double.parseDouble(accuracy);
            r.model = unescape(field(json, "\"model\":\"((?:[^\"\\\\]|\\\\.)*)\""));
            r.card = unescape(field(json, "\"card\":\"((?:[^\"\\\\]|\\\\.)*)\""));
            Matcher m = Pattern.compile("\\{\"file\":\"((?:[^\"\\\\]|\\\\.)*)\",\"reason\":\"((?:[^\"\\\\]|\\\\.)*)\"\\}")
                    .matcher(json);
            while (m.find()) {
                r.skipped.add(unescape(m.group(1)) + ": " + unescape(m.group(2)));
            }
            return r;
        }

        int total() {
            int sum = 0;
            for (int n : counts) {
                sum += n;
            }
            return sum;
        }

        String accuracyText() {
            return Double.isNaN(accuracy) ? "no cross-validation (a class has a single image)"
                    : String.format(Locale.ROOT, "cross-validated accuracy %.3f", accuracy);
        }

        void addRows(ResultsTable t) {
            int n = classes.size();
            for (int c = 0; c < n; c++) {
                t.incrementCounter();
                t.addValue("Class", classes.get(c));
                t.addValue("Images", counts.get(c));
                if (confusion.size() == n * n) {
                    t.addValue("CV_recall", (double) confusion.get(c * n + c) / counts.get(c));
                    for (int p = 0; p < n; p++) {
                        t.addValue("Predicted_" + classes.get(p), confusion.get(c * n + p));
                    }
                }
                t.addValue("CV_accuracy", accuracy);
                t.addValue("Model", model);
            }
        }

        private static String field(String json, String regex) {
            Matcher m = Pattern.compile(regex).matcher(json);
            return m.find() ? m.group(1) : "";
        }

        private static List<String> strings(String list) {
            List<String> out = new ArrayList<String>();
            Matcher m = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(list);
            while (m.find()) {
                out.add(unescape(m.group(1)));
            }
            return out;
        }

        private static String unescape(String s) {
            return s.replace("\\\"", "\"").replace("\\/", "/").replace("\\\\", "\\");
        }
    }
}
