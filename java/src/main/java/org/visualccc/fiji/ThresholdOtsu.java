package org.visualccc.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import ij.measure.ResultsTable;
import ij.process.ByteProcessor;
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
 * <p>Macro (recordable): {@code run("Threshold (Otsu / multi-Otsu)...", "classes=3");}
 * Key: {@code classes} (2-5).
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
                .number("Classes", 2, 0, "(2-5)")
                .message("As scikit-image: class i = pixels greater than exactly i thresholds.");
    }

    @Override
    void analyse(ImagePlus imp, CommandDialog dialog) {
        threshold(imp, dialog.nextInt(), null).show();
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
        if (imp == null) {
            throw new IllegalArgumentException("no image given");
        }
        ImageStack stack = imp.getStack();
        SelectionMask mask = SelectionMask.of(imp);
        List<Thresholding> results = CommandSupport.mapSlices(stack, "thresholding",
                i -> mask == null ? Thresholds.segment(stack.getProcessor(i), classes)
                        : mask.threshold(stack.getProcessor(i), classes));
        CommandSupport.addRows(table, TABLE_TITLE, t -> addRows(t, imp, results));
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
        }
    }
}
