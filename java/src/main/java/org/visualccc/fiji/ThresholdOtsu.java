package org.visualccc.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import ij.measure.ResultsTable;
import ij.process.ByteProcessor;
import ij.process.ImageProcessor;
import org.visualccc.DataBar;
import org.visualccc.Thresholding;
import org.visualccc.Thresholds;

import java.util.ArrayList;
import java.util.List;

/**
 * Plugins › Visual-CCC › Threshold (Otsu / multi-Otsu)...: thresholds every slice of the
 * active image into 2-5 classes with Otsu's method as scikit-image defines it
 * ({@link Thresholds#DEFINITION}: a pixel is in class i when its value is greater than
 * exactly i thresholds), shows a label image {@code <title without extension>-otsu}
 * (8-bit, values 0..classes-1, distinct colours, the image's calibration) and adds one row
 * per slice to the table {@value #TABLE_TITLE}: {@code Image}, {@code Slice},
 * {@code Classes}, {@code Threshold 1..}, and per class {@code c}: {@code Pixels c},
 * {@code Fraction c}, {@code Area c} (calibrated), then {@code Area unit}. With a
 * non-rectangular selection, the bounding rectangle is output, the thresholds are those of
 * the pixels inside the selection, outside pixels are labelled
 * {@value SelectionMask#OUTSIDE_LABEL} (white) and only inside pixels are counted.
 *
 * <p>With {@code Exclude_data_bar} (on by default), each slice's instrument data bar
 * ({@link DataBar}) is left out in the same way as outside pixels, and the column
 * {@code Excluded rows} says how many rows that was.
 *
 * <p>Macro (recordable): {@code run("Threshold (Otsu / multi-Otsu)...", "classes=3 exclude_data_bar");}
 * Keys: {@code classes} (2-5), {@code exclude_data_bar}.
 *
 * <p>Scripting: {@link #threshold(ImagePlus, int, ResultsTable)}.
 */
public class ThresholdOtsu extends AnalysisCommand {
    /** Title of the results table. */
    public static final String TABLE_TITLE = "Visual-CCC Threshold";
    /** Suffix of the label image's title. */
    public static final String SUFFIX = "-otsu";

    private static boolean definitionLogged;

    @Override
    CommandDialog createDialog(ImagePlus imp) {
        return new CommandDialog("Visual-CCC: Threshold (Otsu / multi-Otsu)", "visualccc.threshold.")
                .number("Classes", Thresholds.defaultInt("classes"), 0, "(" + Thresholds.defaultInt("min_classes")
                        + "-" + Thresholds.defaultInt("max_classes") + ")")
                .checkbox("Exclude_data_bar", DataBar.excludedByDefault())
                .message("As scikit-image: class i = pixels greater than exactly i thresholds.");
    }

    @Override
    void analyse(ImagePlus imp, CommandDialog dialog) {
        int classes = dialog.nextInt();
        threshold(imp, classes, dialog.nextBoolean(), null).show();
        if (!definitionLogged) {
            definitionLogged = true;
            IJ.log("Visual-CCC Threshold: " + Thresholds.DEFINITION + ".");
        }
    }

    // ------------------------------------------------------------------ scripting API

    /**
     * Thresholds every slice of {@code imp} independently into {@code classes} classes,
     * (with a non-rectangular selection on {@code imp}: thresholds of the pixels inside it,
     * outside pixels labelled {@value SelectionMask#OUTSIDE_LABEL} and not counted), adds one row per slice to {@code table} (or, if null, to the table
     * {@value #TABLE_TITLE}, shown unless headless) and returns the label image (not shown).
     *
     * @throws IllegalArgumentException for classes outside 2-5, slices with too few
     *                                  distinct values, NaN or infinite pixels
     */
    public static ImagePlus threshold(ImagePlus imp, int classes, ResultsTable table) {
        return threshold(imp, classes, true, table);
    }

    /**
     * As {@link #threshold(ImagePlus, int, ResultsTable)}; with {@code excludeDataBar}, each
     * slice's instrument data bar ({@link DataBar}) is left out like pixels outside a
     * selection: labelled {@value SelectionMask#OUTSIDE_LABEL}, not counted, reported in the
     * column {@code Excluded rows}.
     */
    public static ImagePlus threshold(ImagePlus imp, int classes, boolean excludeDataBar, ResultsTable table) {
        if (imp == null) {
            throw new IllegalArgumentException("no image given");
        }
        ImageStack stack = imp.getStack();
        SelectionMask selection = SelectionMask.of(imp);
        int[] excludedRows = new int[stack.getSize()];
        List<Thresholding> results = CommandSupport.mapSlices(stack, "thresholding", i -> {
            ImageProcessor ip = stack.getProcessor(i);
            SelectionMask mask = selection;
            if (excludeDataBar) {
                DataBar bar = DataBar.detect(ip);
                excludedRows[i - 1] = bar.excludedRows();
                mask = SelectionMask.withoutDataBar(selection, ip, bar);
            }
            return mask == null ? Thresholds.segment(ip, classes) : mask.threshold(ip, classes);
        });
        CommandSupport.addRows(table, TABLE_TITLE, t -> addRows(t, imp, results, excludedRows));
        List<ByteProcessor> labels = new ArrayList<ByteProcessor>();
        for (Thresholding result : results) {
            labels.add(result.labelProcessor());
        }
        return CommandSupport.labelImage(imp, CommandSupport.derivedTitle(imp.getTitle(), SUFFIX), labels,
                "Visual-CCC " + classes + "-class threshold of " + imp.getTitle() + "\n" + Thresholds.DEFINITION
                        + "\n");
    }

    /** Appends one row per slice (see the class documentation for the columns). */
    public static void addRows(ResultsTable table, ImagePlus imp, List<Thresholding> results) {
        addRows(table, imp, results, new int[results.size()]);
    }

    /** As {@link #addRows(ResultsTable, ImagePlus, List)}, with each slice's data-bar rows left out. */
    public static void addRows(ResultsTable table, ImagePlus imp, List<Thresholding> results, int[] excludedRows) {
        Calibration calibration = imp.getCalibration();
        double pixelArea = CommandSupport.pixelArea(calibration);
        for (int i = 0; i < results.size(); i++) {
            Thresholding result = results.get(i);
            CommandSupport.startRow(table, imp, i + 1);
            table.addValue("Classes", result.classCount());
            double[] thresholds = result.thresholds();
            for (int t = 0; t < thresholds.length; t++) {
                CommandSupport.addValue(table, "Threshold " + (t + 1), thresholds[t], 6);
            }
            for (int c = 0; c < result.classCount(); c++) {
                table.addValue("Pixels " + c, result.pixelCount(c));
                CommandSupport.addValue(table, "Fraction " + c, result.areaFraction(c), 6);
                CommandSupport.addValue(table, "Area " + c, result.pixelCount(c) * pixelArea, 6);
            }
            table.addValue("Area unit", CommandSupport.areaUnit(calibration));
            table.addValue("Excluded rows", excludedRows[i]);
        }
    }
}
