package org.visualccc.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.Macro;
import ij.gui.GenericDialog;
import ij.gui.ImageRoi;
import ij.gui.Overlay;
import ij.measure.Calibration;
import ij.measure.ResultsTable;
import ij.plugin.PlugIn;
import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.LUT;
import org.visualccc.DataBar;
import org.visualccc.Model;
import org.visualccc.WholeImageClassification;

import java.awt.Rectangle;
import java.util.List;
import java.util.Map;

/**
 * Plugins › Visual-CCC › Morphology Map...: classifies every slice of the active image
 * as a whole, tile by tile at the model's tile scale (tiles of its tile source size,
 * resized to its input size; see docs/model-format.md), and shows
 * <ul>
 * <li>the <b>class map</b>: an 8-bit label image where each cell holds 1 + the class index
 * of the nearest tile (0 is unused), with a distinct-colour LUT and the image's
 * calibration (scaled when one cell covers several pixels);</li>
 * <li>the table {@value #TABLE_TITLE}, one row per image (class = argmax of the mean
 * tile probabilities) or one row per tile;</li>
 * <li>the <b>stitched class activation map</b> of the image's class as a 32-bit image
 * {@code <title>-MorphologyCAM} and, for images up to 2048 pixels on a side, as an
 * overlay on the image. Models without a {@code features} output classify but give no
 * CAM; the log says why.</li>
 * </ul>
 *
 * <p>Macro (recordable), e.g.
 * <pre>
 * run("Morphology Map...", "model=[fixture-tiny (untrained test fixture)] tile_overlap=25 heatmap_opacity=40 table=[per image] add_overlay colour_bar");
 * </pre>
 * Keys: {@code model}, {@code model_file} (as in Classify Morphology...),
 * {@code tile_overlap} (percent of the tile size, 0-90), {@code heatmap_opacity}
 * (0-100), {@code table} ({@code per image} or {@code per tile}), {@code add_overlay},
 * {@code colour_bar} (a {@link ColourBar} legend in the overlay); {@code exclude_data_bar}
 * (on in the dialog: the first slice's instrument data bar, {@link DataBar}, is cut off
 * every slice like a selection's bounding rectangle, so the maps cover the kept rows; the
 * column {@code Excluded rows} says how many); for multi-channel images
 * {@code channels} ({@code current}, the default, or {@code all}).
 *
 * <p>Scripting: {@link #map(ImagePlus, Model, double, boolean)}.
 */
public class MorphologyMap implements PlugIn {
    /** Title of the results table. */
    public static final String TABLE_TITLE = "Visual-CCC Morphology Map";
    /** Suffix of the class map title. */
    public static final String CLASS_MAP_SUFFIX = "-ClassMap";
    /** Suffix of the stitched CAM title. */
    public static final String CAM_SUFFIX = "-MorphologyCAM";
    /** Name of the overlay items this command adds. */
    public static final String OVERLAY_NAME = "Visual-CCC Morphology CAM";
    /** Table choices. */
    public static final String PER_IMAGE = "per image";
    public static final String PER_TILE = "per tile";

    /** The core's default overlap of neighbouring tiles, percent of the tile size. */
    public static double defaultOverlapPercent() {
        return 100 * ((Number) Model.tilingDefaults().get("overlap_fraction")).doubleValue();
    }

    /** What one run produced. */
    public static final class Output {
        public final List<WholeImageClassification> results;
        public final ImagePlus classMap;
        /** Null when the model has no features. */
        public final ImagePlus cam;

        Output(List<WholeImageClassification> results, ImagePlus classMap, ImagePlus cam) {
            this.results = results;
            this.classMap = classMap;
            this.cam = cam;
        }
    }

    @Override
    public void run(String arg) {
        ImagePlus imp = CommandSupport.currentImage();
        if (imp == null) {
            return;
        }
        Map<String, String> models = ClassifyMorphology.availableModels();
        String[] labels = models.keySet().toArray(new String[0]);
        boolean macro = Macro.getOptions() != null;
        GenericDialog gd = new GenericDialog("Visual-CCC: Morphology Map");
        if (labels.length > 0) {
            gd.addChoice("Model", labels, labels[0]);
        }
        gd.addStringField("Model_file", "", 30);
        gd.addMessage("A model file, if given, is used instead of the choice above.");
        gd.addSlider("Tile_overlap (%)", 0, 90, defaultOverlapPercent());
        gd.addSlider("Heatmap_opacity", 0, 100, ClassifyMorphology.DEFAULT_OPACITY);
        gd.addChoice("Table", new String[] {PER_IMAGE, PER_TILE}, PER_IMAGE);
        gd.addCheckbox("Add_overlay", !macro);
        gd.addCheckbox("Colour_bar", !macro);
        gd.addCheckbox("Exclude_data_bar", DataBar.excludedByDefault());
        if (imp.getNChannels() > 1) {
            gd.addChoice("Channels", CommandSupport.CHANNEL_CHOICES, CommandSupport.CHANNEL_CHOICES[0]);
        }
        gd.showDialog();
        if (gd.wasCanceled()) {
            return;
        }
        String choice = labels.length > 0 ? gd.getNextChoice() : "";
        String modelFile = gd.getNextString().trim();
        double overlap = gd.getNextNumber();
        double opacity = gd.getNextNumber();
        boolean perTile = PER_TILE.equals(gd.getNextChoice());
        boolean addOverlay = gd.getNextBoolean();
        boolean colourBar = gd.getNextBoolean();
        boolean excludeDataBar = gd.getNextBoolean();
        int channel = imp.getNChannels() > 1 && gd.getNextChoice().equals(CommandSupport.CHANNEL_CHOICES[0])
                ? imp.getChannel() : 0;
        String modelPath = !modelFile.isEmpty() ? modelFile : models.get(choice);
        if (modelPath == null) {
            CommandSupport.fail("No model chosen. Put *.onnx models into "
                    + ClassifyMorphology.describe(ClassifyMorphology.imageJModelsDir()) + " or enter a model file.");
            return;
        }
        CommandSupport.guarded(() -> {
            ClassifyMorphology.checkOpacity(opacity);
            Model model = ClassifyMorphology.openModel(modelPath);
            try {
                ImagePlus source = channel > 0 ? CommandSupport.channel(imp, channel) : imp;
                // With an area selection, its bounding rectangle is mapped (outputs are that
                // size, as for the analysis commands) and the overlay drawn there.
                ImagePlus target = CommandSupport.withinSelection(source);
                Rectangle selection = target == source ? new Rectangle() : CommandSupport.selectionBounds(imp);
                // The first slice's data bar is left out of every slice, like a selection.
                DataBar bar = excludeDataBar ? DataBar.detect(target.getStack().getProcessor(1)) : DataBar.NONE;
                target = DataBarRows.kept(target, bar);
                selection = DataBarRows.shifted(selection, bar);
                Output output = map(target, model, overlap, true);
                ResultsTable table = CommandSupport.openTable(TABLE_TITLE);
                int before = table.size();
                addRows(table, target, ClassifyMorphology.modelLabel(model), output.results, perTile);
                for (int row = before; row < table.size(); row++) {
                    table.setValue("Excluded rows", row, bar.excludedRows());
                }
                CommandSupport.showTable(table, TABLE_TITLE);
                output.classMap.show();
                if (output.cam != null) {
                    output.cam.show();
                    if (addOverlay) {
                        addOverlay(imp, output.results, opacity, source == imp ? 0 : channel, selection.x,
                                selection.y);
                        if (colourBar) {
                            ColourBar.add(imp, OVERLAY_NAME);
                        }
                    }
                }
            } finally {
                model.close();
            }
        });
    }

    // ------------------------------------------------------------------ scripting API

    /**
     * Classifies every slice of {@code imp} as a whole and builds the class map and (if the
     * model has features and {@code withCam}) the stitched CAM of each slice's class.
     * Nothing is shown.
     *
     * @param overlapPercent overlap of neighbouring tiles in percent of the tile size, 0-90
     * @throws IllegalArgumentException for bad arguments or images the model cannot take
     */
    public static Output map(ImagePlus imp, Model model, double overlapPercent, boolean withCam) {
        if (imp == null || model == null) {
            throw new IllegalArgumentException("no image or no model given");
        }
        if (Double.isNaN(overlapPercent) || overlapPercent < 0 || overlapPercent > 90) {
            throw new IllegalArgumentException("tile overlap must be 0-90 (percent), not " + overlapPercent);
        }
        String label = ClassifyMorphology.modelLabel(model);
        if (model.isFixture()) {
            IJ.log("Visual-CCC: " + label + " is an untrained test fixture; its predictions mean nothing.");
        }
        boolean cam = withCam && model.hasFeatures();
        if (withCam && !cam) {
            IJ.log("Visual-CCC: " + label + " has no 'features' output, so no class activation map can be "
                    + "stitched; classifying without one.");
        }
        int overlap = (int) Math.round(overlapPercent / 100.0 * model.inputSize());
        int camClass = cam ? Model.CAM_PREDICTED : Model.CAM_NONE;
        ImageStack stack = imp.getStack();
        List<WholeImageClassification> results = CommandSupport.mapSlices(stack, "mapping",
                i -> model.classifyWhole(stack.getProcessor(i), overlap, Model.tilingDefaultInt("batch"), camClass));
        return new Output(results, classMap(imp, results, label), cam ? camImage(imp, results, label) : null);
    }

    /** Image pixels per map cell for an image of this size. */
    static int mapScale(int width, int height) {
        int side = Model.tilingDefaultInt("max_map_side");
        return Math.max(1, (Math.max(width, height) + side - 1) / side);
    }

    /**
     * The class map: one slice per result, each cell 1 + the class of the tile whose
     * centre is nearest to the cell's centre.
     */
    public static ImagePlus classMap(ImagePlus imp, List<WholeImageClassification> results, String modelLabel) {
        int scale = mapScale(imp.getWidth(), imp.getHeight());
        ImageStack stack = mapStack(imp);
        int width = stack.getWidth();
        int height = stack.getHeight();
        StringBuilder info = info("Visual-CCC class map: value k = class k-1 of the nearest tile", imp, modelLabel);
        for (int s = 0; s < results.size(); s++) {
            WholeImageClassification r = results.get(s);
            int[] column = nearestTile(r, width, scale, true);
            int[] row = nearestTile(r, height, scale, false);
            byte[] labels = new byte[width * height];
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    labels[y * width + x] = (byte) (1 + r.tileClass(row[y] * r.columns() + column[x]));
                }
            }
            stack.addSlice(CommandSupport.sliceLabel(imp, s + 1), new ByteProcessor(width, height, labels));
            info.append("Slice ").append(s + 1).append(": ").append(r).append('\n');
        }
        String[] names = results.isEmpty() ? new String[0] : results.get(0).classNames();
        for (int k = 0; k < names.length; k++) {
            info.append("value ").append(k + 1).append(" = ").append(names[k]).append('\n');
        }
        ImagePlus map = scaled(imp, CommandSupport.derivedTitle(imp.getTitle(), CLASS_MAP_SUFFIX), stack, scale);
        map.setLut(CommandSupport.labelLut());
        map.setDisplayRange(0, 255);
        map.setProperty("Info", info.toString());
        return map;
    }

    /** For each map cell along one axis, the grid index of the tile with the nearest centre. */
    private static int[] nearestTile(WholeImageClassification r, int cells, int scale, boolean alongX) {
        int count = alongX ? r.columns() : r.rows();
        double[] centres = new double[count];
        for (int i = 0; i < count; i++) {
            int[] region = r.tileRegion(alongX ? i : i * r.columns());
            centres[i] = alongX ? region[0] + region[2] / 2.0 : region[1] + region[3] / 2.0;
        }
        int[] nearest = new int[cells];
        for (int c = 0; c < cells; c++) {
            double centre = c * (double) scale + scale / 2.0;
            int best = 0;
            for (int i = 1; i < count; i++) {
                if (Math.abs(centres[i] - centre) < Math.abs(centres[best] - centre)) {
                    best = i;
                }
            }
            nearest[c] = best;
        }
        return nearest;
    }

    /** The stitched CAMs as a 32-bit stack with the Fire LUT, display range 0-1. */
    public static ImagePlus camImage(ImagePlus imp, List<WholeImageClassification> results, String modelLabel) {
        int scale = mapScale(imp.getWidth(), imp.getHeight());
        ImageStack stack = mapStack(imp);
        int width = stack.getWidth();
        int height = stack.getHeight();
        StringBuilder info = info("Visual-CCC class activation map stitched over the image", imp, modelLabel);
        for (int s = 0; s < results.size(); s++) {
            WholeImageClassification r = results.get(s);
            FloatProcessor fp = r.hasCam() ? new FloatProcessor(width, height, r.cam())
                    : new FloatProcessor(width, height);
            stack.addSlice(CommandSupport.sliceLabel(imp, s + 1), fp);
            info.append("Slice ").append(s + 1).append(": CAM of ")
                    .append(r.hasCam() ? r.classNames()[r.camClass()] : "none").append('\n');
        }
        ImagePlus cam = scaled(imp, CommandSupport.derivedTitle(imp.getTitle(), CAM_SUFFIX), stack, scale);
        cam.setLut(new LUT(ClassifyMorphology.heatLut(), 0, 1));
        cam.setDisplayRange(0, 1);
        cam.setProperty("Info", info.toString());
        return cam;
    }

    /** An empty stack of the map size of {@code imp} (one cell per {@link #mapScale} pixels). */
    private static ImageStack mapStack(ImagePlus imp) {
        int scale = mapScale(imp.getWidth(), imp.getHeight());
        return new ImageStack((imp.getWidth() + scale - 1) / scale, (imp.getHeight() + scale - 1) / scale);
    }

    /** The start of a map's Info property: what it is, its source and model. */
    private static StringBuilder info(String what, ImagePlus imp, String modelLabel) {
        return new StringBuilder(what).append("\nSource: ").append(imp.getTitle()).append("\nModel: ")
                .append(modelLabel).append('\n');
    }

    /** A derived image whose pixels are {@code scale} source pixels wide. */
    private static ImagePlus scaled(ImagePlus imp, String title, ImageStack stack, int scale) {
        ImagePlus image = CommandSupport.derivedImage(imp, title, stack, 1, false);
        Calibration cal = image.getCalibration();
        cal.pixelWidth *= scale;
        cal.pixelHeight *= scale;
        return image;
    }

    /**
     * Appends one row per image ({@code Image, Slice, Model, Class, Tiles, P(<class>)}) or
     * one per tile ({@code Image, Slice, Model, Tile, X, Y, Width, Height, Class, P(<class>)},
     * positions in pixels).
     */
    public static void addRows(ResultsTable table, ImagePlus imp, String modelLabel,
                               List<WholeImageClassification> results, boolean perTile) {
        for (int s = 0; s < results.size(); s++) {
            WholeImageClassification r = results.get(s);
            String[] names = r.classNames();
            if (!perTile) {
                CommandSupport.startRow(table, imp, s + 1);
                table.addValue("Model", modelLabel);
                table.addValue("Class", r.predictedClass());
                table.addValue("Tiles", r.tileCount());
                addProbabilities(table, names, r.probabilities());
                ClassifyMorphology.addUnfamiliar(table, r);
                continue;
            }
            for (int t = 0; t < r.tileCount(); t++) {
                int[] region = r.tileRegion(t);
                CommandSupport.startRow(table, imp, s + 1);
                table.addValue("Model", modelLabel);
                table.addValue("Tile", t + 1);
                table.addValue("X", region[0]);
                table.addValue("Y", region[1]);
                table.addValue("Width", region[2]);
                table.addValue("Height", region[3]);
                table.addValue("Class", names[r.tileClass(t)]);
                addProbabilities(table, names, r.tileProbabilities(t));
            }
        }
    }

    private static void addProbabilities(ResultsTable table, String[] names, double[] p) {
        for (int k = 0; k < names.length; k++) {
            CommandSupport.addValue(table, "P(" + names[k] + ")", p[k], 6);
        }
    }

    /**
     * Adds each slice's stitched CAM to {@code imp}'s overlay with the given opacity
     * (percent), replacing earlier items of this command. Images over the core's
     * {@code max_map_side} ({@link Model#tilingDefaults()}) pixels on a side get no overlay
     * (it would be as large as the image); their CAM image is the output.
     */
    public static void addOverlay(ImagePlus imp, List<WholeImageClassification> results, double opacity) {
        addOverlay(imp, results, opacity, 0, 0, 0);
    }

    /**
     * As {@link #addOverlay(ImagePlus, List, double)} for results of the part of {@code imp}
     * at (dx, dy): of every plane if {@code channel} is 0, else of channel {@code channel}'s
     * planes (z, then t).
     */
    static void addOverlay(ImagePlus imp, List<WholeImageClassification> results, double opacity, int channel,
                           int dx, int dy) {
        ClassifyMorphology.checkOpacity(opacity);
        if (mapScale(imp.getWidth(), imp.getHeight()) > 1) {
            IJ.log("Visual-CCC: the image is over " + Model.tilingDefaultInt("max_map_side")
                    + " pixels on a side; see the " + CAM_SUFFIX + " image instead of an overlay.");
            return;
        }
        Overlay overlay = imp.getOverlay() == null ? new Overlay() : imp.getOverlay();
        for (int i = overlay.size() - 1; i >= 0; i--) {
            if (overlay.get(i).getName() != null && overlay.get(i).getName().startsWith(OVERLAY_NAME)) {
                overlay.remove(i);
            }
        }
        // Results of the first slices of a stack (or of all of them) belong on those slices.
        boolean stack = imp.getStackSize() > 1 && results.size() <= imp.getStackSize();
        for (int i = 0; i < results.size(); i++) {
            WholeImageClassification r = results.get(i);
            if (!r.hasCam()) {
                continue;
            }
            FloatProcessor cam = new FloatProcessor(r.mapWidth(), r.mapHeight(), r.cam());
            ImageRoi roi = new ImageRoi(dx, dy, ClassifyMorphology.colourise(cam, ClassifyMorphology.heatLut()));
            roi.setOpacity(opacity / 100.0);
            roi.setName(stack ? OVERLAY_NAME + " " + (i + 1) : OVERLAY_NAME);
            CommandSupport.placeOnPlane(roi, imp, i, channel);
            overlay.add(roi);
            ClassifyMorphology.addUnfamiliarCaption(overlay, imp, r, dx, dy, roi.getName(), i, channel);
        }
        imp.setOverlay(overlay);
    }
}
