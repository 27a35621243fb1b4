package org.visualccc.fiji;

import ij.ImagePlus;
import ij.ImageStack;
import ij.WindowManager;
import ij.gui.Roi;
import ij.measure.Calibration;
import ij.measure.ResultsTable;
import ij.plugin.filter.ThresholdToSelection;
import ij.plugin.frame.RoiManager;
import ij.process.ByteProcessor;
import ij.process.ImageProcessor;
import org.visualccc.Clustering;
import org.visualccc.DataBar;
import org.visualccc.KMeans;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plugins › Visual-CCC › Cluster (k-means)...: segments every slice of the active image
 * by k-means on per-pixel features (grey, smoothed grey, local variance, the learned
 * foreground probability, weighted x/y, and optionally another open image of the same size,
 * e.g. the CAM heat map made by Classify Morphology). Shows a label image {@code <title without extension>-clusters} (8-bit,
 * values 0..k-1 ordered by mean grey, darkest = 0, distinct colours, the image's
 * calibration), optionally the binary mask {@code <title>-cluster<N>-mask} of one cluster,
 * and adds one row per cluster per slice to the table {@value #TABLE_TITLE}:
 * {@code Image}, {@code Slice}, {@code Cluster}, {@code Pixels}, {@code Fraction},
 * {@code Area} (calibrated), {@code Area unit} (e.g. {@code µm^2}), {@code Mean grey},
 * {@code Mean <feature>} per feature, {@code Inertia} (of the slice's clustering). With a
 * non-rectangular selection, the bounding rectangle is clustered and output, pixels
 * outside the selection are labelled {@value SelectionMask#OUTSIDE_LABEL} (white) and
 * only inside pixels are counted in {@code Pixels}, {@code Fraction} and {@code Area}.
 * With {@code Exclude_data_bar} (on by default), each slice's instrument data bar
 * ({@link DataBar}) is left out of the fit and counted like outside pixels; the column
 * {@code Excluded rows} says how many rows that was.
 *
 * <p>Macro (recordable), e.g.
 * <pre>
 * run("Cluster (k-means)...", "k=3 smoothed_grey sigma=2 variance_radius=3 learned_foreground position_weight=0 feature_image=None seed=42 n_init=4 max_iterations=300 tolerance=1.00E-4 target_cluster=2 create_mask add_to_roi_manager exclude_data_bar");
 * </pre>
 * Keys: {@code k} (2-255); {@code grey}, {@code smoothed_grey} with {@code sigma}
 * (pixels), {@code local_variance} with {@code variance_radius} (window 2r+1),
 * {@code learned_foreground} (the probability map of the network bundled with the plugin;
 * needs ONNX Runtime) — checkboxes choosing the features; {@code position_weight} (0 = position not used);
 * {@code feature_image} ({@code None} or the title of an open image of the same size with
 * one slice or as many as the image); {@code seed}; {@code n_init} (restarts);
 * {@code max_iterations}; {@code tolerance}; {@code create_mask} with
 * {@code target_cluster} (0..k-1); {@code add_to_roi_manager} (one ROI per cluster and slice,
 * see {@link #clusterRois}); {@code exclude_data_bar}.
 *
 * <p>Scripting: {@link #cluster(ImagePlus, KMeans.Params, ImagePlus, ResultsTable)} and
 * {@link #mask(ImagePlus, int)}.
 */
public class ClusterKMeans extends AnalysisCommand {
    /** Title of the results table. */
    public static final String TABLE_TITLE = "Visual-CCC Clusters";
    /** Suffix of the label image's title. */
    public static final String SUFFIX = "-clusters";
    /** {@code feature_image} choice for no extra feature. */
    public static final String NO_IMAGE = "None";

    /** The images offered as feature images, in the order of the dialog's choice (after None). */
    private List<ImagePlus> candidates;

    /**
     * The dialog's defaults by macro key: the core's clustering defaults
     * ({@link KMeans#defaults()}), so the dialog and the core cannot disagree.
     */
    static Map<String, Object> dialogDefaults() {
        KMeans.Params d = new KMeans.Params();
        Map<String, Object> fields = new LinkedHashMap<String, Object>();
        fields.put("k", d.k());
        fields.put("grey", d.grey());
        fields.put("smoothed_grey", d.smoothed());
        fields.put("sigma", d.sigma());
        fields.put("local_variance", d.localVariance());
        fields.put("variance_radius", d.varianceRadius());
        fields.put("learned_foreground", d.foreground());
        fields.put("position_weight", d.positionWeight());
        fields.put("seed", d.seed());
        fields.put("n_init", d.nInit());
        fields.put("max_iterations", d.maxIterations());
        fields.put("tolerance", d.tolerance());
        return fields;
    }

    @Override
    CommandDialog createDialog(ImagePlus imp) {
        candidates = sameSizeImages(imp);
        String[] titles = new String[candidates.size() + 1];
        titles[0] = NO_IMAGE;
        for (int i = 0; i < candidates.size(); i++) {
            titles[i + 1] = candidates.get(i).getTitle();
        }
        Map<String, Object> d = dialogDefaults();
        return new CommandDialog("Visual-CCC: Cluster (k-means)", "visualccc.cluster.")
                .number("k", (Integer) d.get("k"), 0, "clusters")
                .message("Features:")
                .checkbox("Grey", (Boolean) d.get("grey"))
                .checkbox("Smoothed_grey", (Boolean) d.get("smoothed_grey"))
                .number("Sigma", (Double) d.get("sigma"), 2, "pixels")
                .checkbox("Local_variance", (Boolean) d.get("local_variance"))
                .number("Variance_radius", (Integer) d.get("variance_radius"), 0, "pixels (window 2r+1)")
                .checkbox("Learned_foreground", (Boolean) d.get("learned_foreground"))
                .number("Position_weight", (Double) d.get("position_weight"), 2, "(0 = off)")
                .choice("Feature_image", titles, NO_IMAGE)
                .number("Seed", (Long) d.get("seed"), 0, "")
                .number("N_init", (Integer) d.get("n_init"), 0, "restarts")
                .number("Max_iterations", (Long) d.get("max_iterations"), 0, "")
                .number("Tolerance", (Double) d.get("tolerance"), -2, "")
                .checkbox("Create_mask", false)
                .number("Target_cluster", 1, 0, "(0 = darkest)")
                .checkbox("Add_to_ROI_Manager", false)
                .checkbox("Exclude_data_bar", DataBar.excludedByDefault());
    }

    @Override
    void analyse(ImagePlus imp, CommandDialog dialog) {
        KMeans.Params params = new KMeans.Params().k(dialog.nextInt());
        boolean grey = dialog.nextBoolean();
        boolean smoothed = dialog.nextBoolean();
        params.grey(grey).smoothed(smoothed, dialog.nextNumber());
        boolean variance = dialog.nextBoolean();
        params.localVariance(variance, dialog.nextInt())
                .foreground(dialog.nextBoolean())
                .positionWeight(dialog.nextNumber());
        int featureImage = dialog.nextChoiceIndex();
        params.seed(dialog.nextInt())
                .nInit(dialog.nextInt())
                .maxIterations(dialog.nextInt())
                .tolerance(dialog.nextNumber());
        boolean createMask = dialog.nextBoolean();
        int target = dialog.nextInt();
        if (createMask && (target < 0 || target >= params.k())) {
            throw new IllegalArgumentException("target cluster " + target + " does not exist: labels run from 0 to "
                    + (params.k() - 1));
        }
        boolean addToManager = dialog.nextBoolean();
        boolean excludeDataBar = dialog.nextBoolean();
        ImagePlus feature = featureImage == 0 ? null : candidates.get(featureImage - 1);
        if (feature != null && selection != null && feature.getWidth() != imp.getWidth()) {
            ImagePlus cropped = new ImagePlus(feature.getTitle(), CommandSupport.cropStack(feature.getStack(),
                    selection));
            feature = cropped;
        }
        ImagePlus labels = cluster(imp, params, feature, excludeDataBar, null);
        labels.show();
        if (createMask) {
            mask(labels, target).show();
        }
        if (addToManager) {
            RoiManager manager = CommandSupport.roiManager();
            for (Roi roi : clusterRois(labels, params.k(), selection == null ? 0 : selection.x,
                    selection == null ? 0 : selection.y)) {
                manager.addRoi(roi);
            }
        }
    }

    /**
     * One selection per cluster per slice of a label image made by {@link #cluster}, named
     * {@code cluster <c>} (plus {@code , slice <s>} for stacks), with the slice as its
     * position and shifted by ({@code dx}, {@code dy}) (where the analysed part lies in the
     * original image). Empty clusters get none. Ready for the ROI Manager.
     */
    public static List<Roi> clusterRois(ImagePlus labels, int k, int dx, int dy) {
        List<Roi> rois = new ArrayList<Roi>();
        ImageStack stack = labels.getStack();
        int n = stack.getSize();
        for (int s = 1; s <= n; s++) {
            for (int c = 0; c < k; c++) {
                ImageProcessor ip = stack.getProcessor(s).duplicate();
                ip.setThreshold(c, c, ImageProcessor.NO_LUT_UPDATE);
                Roi roi = ThresholdToSelection.run(new ImagePlus("", ip));
                if (roi == null) {
                    continue;
                }
                roi.setLocation(roi.getXBase() + dx, roi.getYBase() + dy);
                roi.setName(n > 1 ? "cluster " + c + ", slice " + s : "cluster " + c);
                if (n > 1) {
                    if (labels.isHyperStack()) {
                        int[] position = labels.convertIndexToPosition(s);
                        roi.setPosition(position[0], position[1], position[2]);
                    } else {
                        roi.setPosition(s);
                    }
                }
                rois.add(roi);
            }
        }
        return rois;
    }

    /** Open images other than {@code imp} with its width and height, in window order. */
    static List<ImagePlus> sameSizeImages(ImagePlus imp) {
        List<ImagePlus> images = new ArrayList<ImagePlus>();
        int[] ids = WindowManager.getIDList();
        if (ids == null) {
            return images;
        }
        for (int id : ids) {
            ImagePlus other = WindowManager.getImage(id);
            if (other != null && other != imp && other.getWidth() == imp.getWidth()
                    && other.getHeight() == imp.getHeight()) {
                images.add(other);
            }
        }
        return images;
    }

    // ------------------------------------------------------------------ scripting API

    /**
     * Clusters every slice of {@code imp} independently, adds one row per cluster per slice
     * to {@code table} (or, if null, to the table {@value #TABLE_TITLE}, shown unless
     * headless) and returns the label image (not shown). Areas use the calibration of
     * {@code imp}, whatever {@code params} says. With a non-rectangular selection on
     * {@code imp}, pixels outside it are labelled {@value SelectionMask#OUTSIDE_LABEL} and
     * not counted in pixels, fractions and areas (the clusters are still fitted on the
     * whole image, so means and inertia include them).
     *
     * @param featureImage an extra feature (named by its title): an image of the same width
     *                     and height with one slice (used for every slice) or as many
     *                     slices as {@code imp}; or null
     * @throws IllegalArgumentException for bad settings, a feature image of the wrong size
     *                                  and NaN or infinite pixels
     */
    public static ImagePlus cluster(ImagePlus imp, KMeans.Params params, ImagePlus featureImage,
                                    ResultsTable table) {
        return cluster(imp, params, featureImage, true, table);
    }

    /**
     * As {@link #cluster(ImagePlus, KMeans.Params, ImagePlus, ResultsTable)}; with
     * {@code excludeDataBar}, each slice's instrument data bar ({@link DataBar}) is left out
     * of the fit and the counts, labelled {@value SelectionMask#OUTSIDE_LABEL} and reported
     * in the column {@code Excluded rows}.
     */
    public static ImagePlus cluster(ImagePlus imp, KMeans.Params params, ImagePlus featureImage,
                                    boolean excludeDataBar, ResultsTable table) {
        if (imp == null || params == null) {
            throw new IllegalArgumentException("no image or no clustering settings given");
        }
        Calibration calibration = imp.getCalibration();
        KMeans.Params p = params.copy().calibration(calibration.pixelWidth, calibration.pixelHeight,
                calibration.getUnit());
        checkFeatureImage(imp, featureImage);
        ImageStack stack = imp.getStack();
        SelectionMask selection = SelectionMask.of(imp);
        int[] excludedRows = new int[stack.getSize()];
        List<Clustering> results = CommandSupport.mapSlices(stack, "clustering", i -> {
            ImageProcessor ip = stack.getProcessor(i);
            DataBar bar = excludeDataBar ? DataBar.detect(ip) : DataBar.NONE;
            excludedRows[i - 1] = bar.excludedRows();
            Map<String, ImageProcessor> features = new LinkedHashMap<String, ImageProcessor>();
            for (Map.Entry<String, ImageProcessor> e : featureMap(featureImage, i).entrySet()) {
                features.put(e.getKey(), DataBarRows.kept(e.getValue(), bar));
            }
            Clustering clustering = DataBarRows.expand(KMeans.cluster(DataBarRows.kept(ip, bar), p, features), bar,
                    ip.getHeight());
            SelectionMask mask = SelectionMask.withoutDataBar(selection, ip, bar);
            return mask == null ? clustering : mask.restrict(clustering, calibration);
        });
        CommandSupport.addRows(table, TABLE_TITLE, t -> addRows(t, imp, results, excludedRows));
        List<ByteProcessor> labels = new ArrayList<ByteProcessor>();
        for (Clustering result : results) {
            labels.add(result.labelProcessor());
        }
        return CommandSupport.labelImage(imp, CommandSupport.derivedTitle(imp.getTitle(), SUFFIX), labels,
                "Visual-CCC k-means clusters (k = " + p.k() + ", labels ordered by mean grey) of "
                        + imp.getTitle() + "\nFeatures: " + String.join(", ", results.get(0).featureNames())
                        + "\n");
    }

    private static void checkFeatureImage(ImagePlus imp, ImagePlus featureImage) {
        if (featureImage == null) {
            return;
        }
        if (featureImage.getWidth() != imp.getWidth() || featureImage.getHeight() != imp.getHeight()) {
            throw new IllegalArgumentException("feature image '" + featureImage.getTitle() + "' is "
                    + featureImage.getWidth() + "x" + featureImage.getHeight() + " but the image is "
                    + imp.getWidth() + "x" + imp.getHeight());
        }
        int n = featureImage.getStackSize();
        if (n != 1 && n != imp.getStackSize()) {
            throw new IllegalArgumentException("feature image '" + featureImage.getTitle() + "' has " + n
                    + " slices; it needs 1 or " + imp.getStackSize());
        }
    }

    /** The feature map for slice {@code slice}: none, the only slice, or the same slice. */
    private static Map<String, ImageProcessor> featureMap(ImagePlus featureImage, int slice) {
        if (featureImage == null) {
            return Collections.emptyMap();
        }
        int n = featureImage.getStackSize() == 1 ? 1 : slice;
        return Collections.singletonMap(featureImage.getTitle(), featureImage.getStack().getProcessor(n));
    }

    /** Appends one row per cluster per slice (see the class documentation for the columns). */
    public static void addRows(ResultsTable table, ImagePlus imp, List<Clustering> results) {
        addRows(table, imp, results, new int[results.size()]);
    }

    /** As {@link #addRows(ResultsTable, ImagePlus, List)}, with each slice's data-bar rows left out. */
    public static void addRows(ResultsTable table, ImagePlus imp, List<Clustering> results, int[] excludedRows) {
        for (int i = 0; i < results.size(); i++) {
            Clustering result = results.get(i);
            String[] features = result.featureNames();
            for (int c = 0; c < result.clusterCount(); c++) {
                CommandSupport.startRow(table, imp, i + 1);
                table.addValue("Cluster", c);
                table.addValue("Pixels", result.pixelCount(c));
                CommandSupport.addValue(table, "Fraction", result.areaFraction(c), 6);
                CommandSupport.addValue(table, "Area", result.area(c), 6);
                table.addValue("Area unit", CommandSupport.areaUnit(imp.getCalibration()));
                CommandSupport.addValue(table, "Mean grey", result.meanGrey(c), 6);
                for (int f = 0; f < features.length; f++) {
                    CommandSupport.addValue(table, "Mean " + features[f], result.featureMean(c, f), 6);
                }
                CommandSupport.addValue(table, "Inertia", result.inertia(), 6);
                table.addValue("Excluded rows", excludedRows[i]);
            }
        }
    }

    /**
     * The binary mask (8-bit, 255 inside, 0 outside; one slice per slice of {@code labels})
     * of label {@code cluster} in a label image made by {@link #cluster}, titled
     * {@code <labels title>-cluster<N>-mask} minus the {@value #SUFFIX} part, calibrated
     * like it.
     */
    public static ImagePlus mask(ImagePlus labels, int cluster) {
        if (labels == null || labels.getBitDepth() != 8) {
            throw new IllegalArgumentException("an 8-bit label image is needed");
        }
        if (cluster < 0 || cluster > 255) {
            throw new IllegalArgumentException("cluster " + cluster + " is not a label (0-255)");
        }
        ImageStack source = labels.getStack();
        ImageStack stack = new ImageStack(labels.getWidth(), labels.getHeight());
        for (int i = 1; i <= source.getSize(); i++) {
            byte[] values = (byte[]) source.getPixels(i);
            byte[] mask = new byte[values.length];
            for (int j = 0; j < values.length; j++) {
                mask[j] = (values[j] & 0xff) == cluster ? (byte) 255 : 0;
            }
            stack.addSlice(source.getSliceLabel(i), new ByteProcessor(labels.getWidth(), labels.getHeight(), mask));
        }
        String base = labels.getTitle().endsWith(SUFFIX)
                ? labels.getTitle().substring(0, labels.getTitle().length() - SUFFIX.length()) : labels.getTitle();
        ImagePlus mask = CommandSupport.derivedImage(labels, base + "-cluster" + cluster + "-mask", stack, 1, false);
        mask.setProperty("Info", "Visual-CCC mask of cluster " + cluster + " of " + labels.getTitle() + "\n");
        return mask;
    }
}
