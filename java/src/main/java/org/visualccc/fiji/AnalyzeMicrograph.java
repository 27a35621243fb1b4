package org.visualccc.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import ij.measure.ResultsTable;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import org.visualccc.Analysis;
import org.visualccc.Classification;
import org.visualccc.Clustering;
import org.visualccc.DataBar;
import org.visualccc.Json;
import org.visualccc.Model;
import org.visualccc.Texture;

import java.awt.Color;
import java.awt.Font;
import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plugins › Visual-CCC › Analyze Micrograph...: the published Visual-CCC workflow in one
 * go on the active image, run slice by slice by the core's pipeline ({@link Analysis}, the
 * same code as {@code visual-ccc analyze} and Batch Process Folder): classification with
 * the class activation map (CAM) of the predicted class, Otsu segmentation, whole-image
 * GLCM texture and the published texture map ({@link Texture.Params#reference()}), k-means
 * clustering on the default features (smoothed grey and the learned foreground
 * probability), and the area fraction of a target cluster; an instrument data bar is left
 * out of every step. It adds one row per slice to {@value #TABLE_TITLE} ({@code Image},
 * {@code Slice}, {@code Model}, {@code Class}, {@code P(class)}, {@code Unfamiliar} and
 * {@code Unfamiliarity} for calibrated models, {@code Otsu threshold}, {@code Foreground
 * fraction}, {@code Texture contrast} (whole-image GLCM), {@code k}, {@code Target cluster},
 * {@code Target fraction}, {@code Target area}, {@code Area unit}, {@code Excluded rows})
 * and shows the CAM, Otsu, texture, cluster and target-mask images plus one RGB summary
 * montage {@code <title>-summary} of the current slice.
 *
 * <p>Macro (recordable), e.g.
 * <pre>
 * run("Analyze Micrograph...", "model=[fixture-tiny (untrained test fixture)] k=3 target_cluster=2 heatmap_opacity=40 show_montage colour_bar exclude_data_bar");
 * </pre>
 *
 * <p>Scripting: {@link #analyze(ImagePlus, Model, int, int, double)}.
 */
public class AnalyzeMicrograph extends AnalysisCommand {
    /** Title of the summary table. */
    public static final String TABLE_TITLE = "Visual-CCC Analysis";
    /** Suffix of the montage's title. */
    public static final String MONTAGE_SUFFIX = "-summary";
    /** Width of one montage panel in pixels. */
    static final int PANEL_WIDTH = 320;

    private ModelField modelField;

    /** The images and table one analysis made. */
    public static final class Result {
        public ResultsTable table;
        public ImagePlus heatmap;
        public ImagePlus otsu;
        public ImagePlus texture;
        public ImagePlus clusters;
        public ImagePlus targetMask;
        public ImagePlus montage;

        /** Shows every image (the montage last, so it ends up in front). */
        public void show() {
            for (ImagePlus image : new ImagePlus[] {heatmap, otsu, texture, clusters, targetMask, montage}) {
                if (image != null) {
                    image.show();
                }
            }
        }
    }

    @Override
    CommandDialog createDialog(ImagePlus imp) {
        CommandDialog dialog = new CommandDialog("Visual-CCC: Analyze Micrograph", "visualccc.analyze.");
        modelField = new ModelField().addTo(dialog);
        int k = BatchProcessFolder.defaultK();
        return dialog.number("k", k, 0, "clusters")
                .number("Target_cluster", k - 1, 0, "(0 = darkest)")
                .number("Heatmap_opacity", ClassifyMorphology.DEFAULT_OPACITY, 0, "%")
                .checkbox("Show_montage", true)
                .checkbox("Colour_bar", true)
                .checkbox("Exclude_data_bar", DataBar.excludedByDefault());
    }

    @Override
    void analyse(ImagePlus imp, CommandDialog dialog) {
        String modelPath = modelField.read(dialog);
        int k = dialog.nextInt();
        int target = dialog.nextInt();
        double opacity = dialog.nextNumber();
        boolean montage = dialog.nextBoolean();
        boolean colourBar = dialog.nextBoolean();
        boolean excludeDataBar = dialog.nextBoolean();
        File file = ClassifyMorphology.resolveModel(modelPath);
        try (Model model = Model.open(file.getPath())) {
            Result result = analyze(imp, model, k, target, opacity, excludeDataBar);
            if (!montage) {
                result.montage = null;
            }
            if (colourBar) {
                ColourBar.add(imp, ClassifyMorphology.OVERLAY_NAME);
            }
            result.show();
        }
    }

    // ------------------------------------------------------------------ scripting API

    /**
     * Runs the whole workflow on every slice of {@code imp} with the core's pipeline (the
     * montage shows the current slice), adds the CAM overlay to {@code imp} and returns the
     * images (not shown) and the summary table (shown unless headless). With a
     * non-rectangular selection, fractions and areas count the pixels inside it only.
     *
     * @param k       clusters (2-255)
     * @param target  the cluster whose area fraction is reported (0 = darkest .. k-1)
     * @param opacity CAM overlay opacity in percent
     * @throws IllegalArgumentException for bad arguments
     */
    public static Result analyze(ImagePlus imp, Model model, int k, int target, double opacity) {
        return analyze(imp, model, k, target, opacity, DataBar.excludedByDefault());
    }

    /**
     * As {@link #analyze(ImagePlus, Model, int, int, double)}; {@code excludeDataBar} false
     * analyses every row, an instrument data bar included.
     */
    public static Result analyze(ImagePlus imp, Model model, int k, int target, double opacity,
                                 boolean excludeDataBar) {
        if (imp == null || model == null) {
            throw new IllegalArgumentException("no image or no model given");
        }
        if (target < 0 || target >= k) {
            throw new IllegalArgumentException("target cluster " + target + " does not exist: labels run from 0 to "
                    + (k - 1));
        }
        ClassifyMorphology.checkOpacity(opacity);
        String label = ClassifyMorphology.modelLabel(model);
        if (model.isFixture()) {
            IJ.log("Visual-CCC: " + label + " is an untrained test fixture; its classes mean nothing.");
        }
        Map<String, Object> settings = new LinkedHashMap<String, Object>();
        settings.put("k", k);
        settings.put("target_cluster", target);
        settings.put("exclude_data_bar", excludeDataBar);
        String settingsJson = Json.object(settings);
        Calibration calibration = imp.getCalibration();
        ImageStack stack = imp.getStack();
        SelectionMask selection = SelectionMask.of(imp);
        List<Analysis> analyses = CommandSupport.mapSlices(stack, "analysing",
                i -> Analysis.run(model, stack.getProcessor(i), calibration, settingsJson));
        // After Esc, the outputs hold the slices analysed so far.
        ImagePlus done = CommandSupport.firstSlices(imp, analyses.size());
        Slices slices = new Slices(analyses, stack, selection, calibration);

        Result result = new Result();
        List<Classification> classes = slices.classifications;
        if (classes.get(0).hasCam()) {
            result.heatmap = ClassifyMorphology.createHeatmap(imp, classes, label);
            ClassifyMorphology.addOverlay(imp, classes, opacity);
        }
        result.otsu = CommandSupport.labelImage(done, CommandSupport.derivedTitle(imp.getTitle(),
                ThresholdOtsu.SUFFIX), slices.otsuLabels, "Visual-CCC Otsu threshold of " + imp.getTitle() + "\n");
        result.texture = CommandSupport.derivedImage(done, CommandSupport.derivedTitle(imp.getTitle(),
                TextureGlcm.SUFFIX), slices.textureMaps, 1, false);
        result.texture.resetDisplayRange();
        result.texture.setProperty("Info", "Visual-CCC texture map of " + imp.getTitle() + ": "
                + Texture.Params.reference() + "\n");
        result.clusters = CommandSupport.labelImage(done, CommandSupport.derivedTitle(imp.getTitle(),
                ClusterKMeans.SUFFIX), slices.clusterLabels, "Visual-CCC k-means clusters (k = " + k
                + ", labels ordered by mean grey) of " + imp.getTitle() + "\n");
        result.targetMask = ClusterKMeans.mask(result.clusters, target);

        ResultsTable table = CommandSupport.openTable(TABLE_TITLE);
        for (int i = 0; i < analyses.size(); i++) {
            Analysis a = analyses.get(i);
            Classification c = classes.get(i);
            Clustering clustering = slices.clusterings.get(i);
            CommandSupport.startRow(table, imp, i + 1);
            table.addValue("Model", label);
            table.addValue("Class", c.predictedClass());
            CommandSupport.addValue(table, "P(class)", c.probability(c.predictedIndex()), 6);
            ClassifyMorphology.addUnfamiliar(table, c);
            CommandSupport.addValue(table, "Otsu threshold", a.otsuThreshold(), 6);
            CommandSupport.addValue(table, "Foreground fraction", slices.foregroundFractions[i], 6);
            CommandSupport.addValue(table, "Texture contrast", a.texture("contrast"), 6);
            table.addValue("k", k);
            table.addValue("Target cluster", target);
            CommandSupport.addValue(table, "Target fraction", clustering.areaFraction(target), 6);
            CommandSupport.addValue(table, "Target area", clustering.area(target), 6);
            table.addValue("Area unit", CommandSupport.areaUnit(calibration));
            table.addValue("Excluded rows", a.dataBar().excludedRows());
        }
        CommandSupport.showTable(table, TABLE_TITLE);
        result.table = table;
        int current = Math.min(imp.getCurrentSlice(), analyses.size()) - 1;
        double targetFraction = slices.clusterings.get(current).areaFraction(target);
        result.montage = montage(imp, result, classes.get(current),
                String.format("Cluster %d: %.1f%% of the area", target, 100 * targetFraction));
        return result;
    }

    /**
     * Each slice's results as the images and counts show them: pixels outside a
     * non-rectangular selection labelled {@value SelectionMask#OUTSIDE_LABEL} (NaN in the
     * texture map) and left out of fractions and areas, like the data bar's rows.
     */
    private static final class Slices {
        final List<Classification> classifications = new ArrayList<Classification>();
        final List<Clustering> clusterings = new ArrayList<Clustering>();
        final List<ImageProcessor> otsuLabels = new ArrayList<ImageProcessor>();
        final List<ImageProcessor> clusterLabels = new ArrayList<ImageProcessor>();
        final ImageStack textureMaps;
        final double[] foregroundFractions;

        Slices(List<Analysis> analyses, ImageStack stack, SelectionMask selection, Calibration calibration) {
            textureMaps = new ImageStack(stack.getWidth(), stack.getHeight());
            foregroundFractions = new double[analyses.size()];
            for (int i = 0; i < analyses.size(); i++) {
                Analysis a = analyses.get(i);
                ImageProcessor ip = stack.getProcessor(i + 1);
                SelectionMask mask = selection == null ? null
                        : SelectionMask.withoutDataBar(selection, ip, a.dataBar());
                classifications.add(a.classification());
                Clustering clustering = mask == null ? a.clustering() : mask.restrict(a.clustering(), calibration);
                clusterings.add(clustering);
                clusterLabels.add(clustering.labelProcessor());
                ByteProcessor otsu = a.otsuLabels();
                foregroundFractions[i] = mask == null ? a.otsuFraction() : mask.restrictBinary(otsu);
                otsuLabels.add(otsu);
                FloatProcessor texture = a.textureMap();
                if (mask != null) {
                    mask.clearOutside(texture);
                }
                textureMaps.addSlice(stack.getSliceLabel(i + 1), texture);
            }
        }
    }

    // ------------------------------------------------------------------ montage

    /** A 3x2 RGB montage of the current slice: input with CAM, CAM, Otsu, texture, clusters, target. */
    static ImagePlus montage(ImagePlus imp, Result result, Classification c, String targetTitle) {
        int slice = imp.getCurrentSlice();
        List<ImageProcessor> panels = new ArrayList<ImageProcessor>();
        List<String> titles = new ArrayList<String>();
        panels.add(flattened(imp));
        titles.add(String.format("%s: %s (p = %.2f)", imp.getTitle(), c.predictedClass(),
                c.probability(c.predictedIndex())));
        addPanel(panels, titles, result.heatmap, slice, "CAM of " + c.predictedClass());
        addPanel(panels, titles, result.otsu, slice, "Otsu segmentation");
        addPanel(panels, titles, result.texture, slice, "Texture (GLCM contrast)");
        addPanel(panels, titles, result.clusters, slice, "k-means clusters");
        addPanel(panels, titles, result.targetMask, slice, targetTitle);
        int panelHeight = Math.max(1, (int) Math.round((double) PANEL_WIDTH * imp.getHeight() / imp.getWidth()));
        int bar = 22;
        int columns = 3;
        int rows = (panels.size() + columns - 1) / columns;
        ColorProcessor montage = new ColorProcessor(columns * PANEL_WIDTH, rows * (panelHeight + bar));
        montage.setColor(Color.black);
        montage.fill();
        montage.setFont(new Font("SansSerif", Font.PLAIN, 14));
        montage.setAntialiasedText(true);
        for (int i = 0; i < panels.size(); i++) {
            int x = (i % columns) * PANEL_WIDTH;
            int y = (i / columns) * (panelHeight + bar);
            ImageProcessor panel = panels.get(i);
            panel.setInterpolationMethod(ImageProcessor.BILINEAR);
            montage.insert(panel.resize(PANEL_WIDTH, panelHeight), x, y + bar);
            montage.setColor(Color.white);
            montage.drawString(titles.get(i), x + 4, y + bar - 4);
        }
        ImagePlus image = new ImagePlus(CommandSupport.derivedTitle(imp.getTitle(), MONTAGE_SUFFIX), montage);
        image.setProperty("Info", "Visual-CCC summary of " + imp.getTitle() + ", slice " + slice + "\n");
        return image;
    }

    private static void addPanel(List<ImageProcessor> panels, List<String> titles, ImagePlus image, int slice,
                                 String title) {
        if (image == null) {
            return;
        }
        ImageStack stack = image.getStack();
        int n = stack.getSize() == 1 ? 1 : Math.min(slice, stack.getSize());
        if (image.getNChannels() > 1) {
            n = image.getStackIndex(1, slice, 1);
        }
        ImageProcessor ip = stack.getProcessor(n).duplicate();
        ip.setColorModel(image.getProcessor().getColorModel());
        ip.setMinAndMax(image.getDisplayRangeMin(), image.getDisplayRangeMax());
        panels.add(ip.convertToRGB());
        titles.add(title);
    }

    /** The current slice of {@code imp} with its overlay burnt in, as RGB. */
    private static ImageProcessor flattened(ImagePlus imp) {
        try {
            return imp.flatten().getProcessor();
        } catch (RuntimeException e) {
            return imp.getProcessor().convertToRGB();
        }
    }
}
