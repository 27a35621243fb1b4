package org.visualccc.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.WindowManager;
import ij.gui.Roi;
import ij.macro.Interpreter;
import ij.measure.Calibration;
import ij.measure.ResultsTable;
import ij.plugin.frame.RoiManager;
import ij.process.ImageProcessor;
import ij.process.LUT;
import org.visualccc.NativeLog;
import org.visualccc.VisualCccException;

import java.awt.GraphicsEnvironment;
import java.awt.Rectangle;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * What the Visual-CCC commands share, so that they report errors, show progress, name and
 * calibrate their output images and fill their tables the same way.
 */
final class CommandSupport {
    /**
     * Sasha Trubetskoy's 20 distinct colours, ordered so that the first few labels are
     * far apart; labels 1-255 cycle through them.
     */
    private static final int[] DISTINCT_COLOURS = {0xe6194b, 0x3cb44b, 0x4363d8, 0xffe119, 0xf58231, 0x42d4f4,
        0xf032e6, 0x911eb4, 0xbfef45, 0xfabed4, 0x469990, 0xdcbeff, 0x9a6324, 0xfffac8, 0x800000, 0xaaffc3,
        0x808000, 0xffd8b1, 0x000075, 0xa9a9a9};

    /** Items of the {@code channels} choice offered for multi-channel images. */
    static final String[] CHANNEL_CHOICES = {"current", "all"};
    /** Property of a single-channel image made by {@link #channel}: the source's channel. */
    private static final String CHANNEL_PROPERTY = "visualccc.channel";

    private CommandSupport() {
    }

    // ------------------------------------------------------------------ errors

    /** The active image, or null after telling the user that there is none. */
    static ImagePlus currentImage() {
        ImagePlus imp = WindowManager.getCurrentImage();
        if (imp == null) {
            IJ.noImage();
        }
        return imp;
    }

    /**
     * Reports an error and stops a running macro. With the ImageJ GUI this is
     * {@code IJ.error("Visual-CCC", message)} (a macro is aborted with ImageJ's usual
     * error dialog). Without it ({@code ImageJ -batch}, headless Fiji, scripts) the
     * message goes to the log (stdout) instead, because ImageJ's macro error dialog would
     * block forever when a display happens to exist (e.g. under xvfb-run), and a
     * running macro is aborted.
     */
    static void fail(String message) {
        IJ.showProgress(1.0);
        if (IJ.getInstance() != null) {
            IJ.error("Visual-CCC", message);
            return;
        }
        IJ.log("Visual-CCC error: " + message);
        if (Interpreter.getInstance() != null) {
            Interpreter.abort();
        }
    }

    /**
     * Runs a command's work and reports what it throws with {@link #fail}: the message of
     * bad-argument, state, native and library-loading errors, and "Unexpected error: ..."
     * for anything else. Either way the native core's log records then go to the Log
     * window ({@link NativeLog}).
     */
    static void guarded(Runnable work) {
        String failure = null;
        try {
            work.run();
        } catch (VisualCccException e) {
            failure = e.getMessage();
        } catch (IllegalArgumentException e) {
            failure = e.getMessage();
        } catch (IllegalStateException e) {
            failure = e.getMessage();
        } catch (UnsatisfiedLinkError e) {
            failure = e.getMessage();
        } catch (RuntimeException e) {
            failure = "Unexpected error: " + e;
        }
        // Before fail(), which may abort the macro: the records explain what went wrong.
        NativeLog.toImageJLog();
        if (failure != null) {
            fail(failure);
        }
    }

    // ------------------------------------------------------------------ slices

    /**
     * Applies {@code work} to slices 1..n of {@code stack} in order, showing progress and
     * "Visual-CCC: {@code verb} slice i/n" in the status bar when there is more than one.
     * Esc (pressed while this runs) stops it between slices: the results of the slices
     * done so far are returned (so outputs hold only complete slices) and the log says so.
     */
    static <T> List<T> mapSlices(ImageStack stack, String verb, IntFunction<T> work) {
        int n = stack.getSize();
        List<T> results = new ArrayList<T>(n);
        IJ.resetEscape();
        for (int i = 1; i <= n; i++) {
            if (i > 1 && IJ.escapePressed()) {
                IJ.resetEscape();
                IJ.log("Visual-CCC: " + verb + " stopped by Esc after " + (i - 1) + " of " + n
                        + " slices; the outputs hold those " + (i - 1) + " slices.");
                break;
            }
            if (n > 1) {
                IJ.showStatus("Visual-CCC: " + verb + " slice " + i + "/" + n);
                IJ.showProgress(i - 1, n);
            }
            results.add(work.apply(i));
        }
        if (n > 1) {
            IJ.showProgress(1.0);
            IJ.showStatus("");
        }
        return results;
    }

    // ------------------------------------------------------------------ selections

    /**
     * The bounding rectangle (clipped to the image) of {@code imp}'s area selection, or null
     * when it has none.
     */
    static Rectangle selectionBounds(ImagePlus imp) {
        Roi roi = imp.getRoi();
        if (roi == null || !roi.isArea()) {
            return null;
        }
        Rectangle bounds = roi.getBounds().intersection(new Rectangle(imp.getWidth(), imp.getHeight()));
        return bounds.isEmpty() ? null : bounds;
    }

    /**
     * {@code imp} itself when it has no area selection; else a new image holding, for every
     * slice, the part inside the selection's bounding rectangle, with the same title,
     * calibration and hyperstack shape. A non-rectangular selection goes with it (moved to
     * the new image), so that area results count only the pixels inside it
     * ({@link SelectionMask}).
     */
    static ImagePlus withinSelection(ImagePlus imp) {
        Rectangle r = selectionBounds(imp);
        if (r == null) {
            return imp;
        }
        ImagePlus crop = new ImagePlus(imp.getTitle(), cropStack(imp.getStack(), r));
        Roi roi = imp.getRoi();
        if (roi.getType() != Roi.RECTANGLE || roi.getCornerDiameter() > 0) {
            Roi moved = (Roi) roi.clone();
            moved.setLocation(roi.getXBase() - r.x, roi.getYBase() - r.y);
            crop.setRoi(moved);
        }
        if (imp.isHyperStack()) {
            crop.setDimensions(imp.getNChannels(), imp.getNSlices(), imp.getNFrames());
            crop.setOpenAsHyperStack(true);
        }
        crop.setCalibration(imp.getCalibration().copy());
        crop.setSlice(imp.getCurrentSlice()); // e.g. the slice a summary montage shows
        if (imp.getProperty(CHANNEL_PROPERTY) != null) {
            crop.setProperty(CHANNEL_PROPERTY, imp.getProperty(CHANNEL_PROPERTY));
        }
        return crop;
    }

    /**
     * The first {@code n} slices of {@code imp} (e.g. those a step stopped by Esc finished)
     * as an image with the same title, calibration, selection and channel; {@code imp}
     * itself when that is all of them. The pixels are shared, not copied.
     */
    static ImagePlus firstSlices(ImagePlus imp, int n) {
        if (n >= imp.getStackSize()) {
            return imp;
        }
        ImagePlus first = new ImagePlus(imp.getTitle(), imp.getStack().crop(0, 0, 0, imp.getWidth(),
                imp.getHeight(), n));
        first.setCalibration(imp.getCalibration().copy());
        if (imp.getProperty(CHANNEL_PROPERTY) != null) {
            first.setProperty(CHANNEL_PROPERTY, imp.getProperty(CHANNEL_PROPERTY));
        }
        if (imp.getRoi() != null) {
            first.setRoi((Roi) imp.getRoi().clone());
        }
        return first;
    }

    // ------------------------------------------------------------------ channels

    /**
     * Puts overlay item {@code roi}, made for result {@code i} (0-based) of a command, on
     * that result's plane of {@code imp}: with {@code channel} 0 the results are {@code imp}'s
     * planes in stack order (a single image needs no position), else channel
     * {@code channel}'s planes, z then t ({@link #channel}).
     */
    static void placeOnPlane(Roi roi, ImagePlus imp, int i, int channel) {
        if (channel > 0) {
            roi.setPosition(channel, 1 + i % imp.getNSlices(), 1 + i / imp.getNSlices());
        } else if (imp.getStackSize() > 1) {
            if (imp.isHyperStack()) {
                int[] position = imp.convertIndexToPosition(i + 1);
                roi.setPosition(position[0], position[1], position[2]);
            } else {
                roi.setPosition(i + 1);
            }
        }
    }

    /**
     * Channel {@code c} of the multi-channel image {@code imp} (all its z and t planes, in
     * stack order) as an image of its own with the same title, calibration and selection,
     * whose table rows say channel {@code c} ({@link #startRow}); {@code imp} itself when it
     * has one channel. The pixels are shared, not copied.
     */
    static ImagePlus channel(ImagePlus imp, int c) {
        if (imp.getNChannels() == 1) {
            return imp;
        }
        int slices = imp.getNSlices();
        int frames = imp.getNFrames();
        ImageStack source = imp.getStack();
        ImageStack stack = new ImageStack(imp.getWidth(), imp.getHeight());
        for (int t = 1; t <= frames; t++) {
            for (int z = 1; z <= slices; z++) {
                int n = imp.getStackIndex(c, z, t);
                stack.addSlice(source.getSliceLabel(n), source.getProcessor(n));
            }
        }
        ImagePlus single = new ImagePlus(imp.getTitle(), stack);
        single.setDimensions(1, slices, frames);
        single.setOpenAsHyperStack(slices > 1 && frames > 1);
        single.setCalibration(imp.getCalibration().copy());
        single.setProperty(CHANNEL_PROPERTY, c);
        single.setPosition(1, imp.getZ(), imp.getT());
        if (imp.getRoi() != null) {
            single.setRoi((Roi) imp.getRoi().clone());
        }
        return single;
    }

    /** Every slice of {@code stack} cropped to {@code r}, keeping slice labels. */
    static ImageStack cropStack(ImageStack stack, Rectangle r) {
        return stack.crop(r.x, r.y, 0, r.width, r.height, stack.getSize());
    }

    /**
     * The ROI Manager a macro would use: the open one; in a batch-mode macro without one,
     * the macro's hidden batch-mode manager (what {@code roiManager(...)} reads); else a new
     * window.
     */
    static RoiManager roiManager() {
        RoiManager manager = RoiManager.getInstance2();
        if (manager == null && Interpreter.isBatchMode()) {
            manager = Interpreter.getBatchModeRoiManager();
        }
        return manager != null ? manager : RoiManager.getRoiManager();
    }

    // ------------------------------------------------------------------ output images

    /**
     * {@code title} without a file extension (if it has one of 1-5 letters or digits) plus
     * {@code suffix}: {@code blobs.gif} and {@code "-CAM"} give {@code blobs-CAM}.
     */
    static String derivedTitle(String title, String suffix) {
        String base = title == null || title.isEmpty() ? "image" : title;
        int dot = base.lastIndexOf('.');
        if (dot > 0 && base.length() - dot - 1 >= 1 && base.length() - dot - 1 <= 5
                && base.substring(dot + 1).matches("[A-Za-z0-9]+")) {
            base = base.substring(0, dot);
        }
        return base + suffix;
    }

    /**
     * A new image computed from {@code source}, with its spatial calibration (and its
     * density calibration only if {@code keepDensity}, i.e. the values keep their meaning).
     *
     * @param stack    {@code perPlane} slices for each plane of {@code source}, plane-major
     * @param perPlane 1: the stack mirrors {@code source} and keeps its hyperstack shape;
     *                 more: a plain stack for a single plane, else a hyperstack with one
     *                 channel per output and the source's planes as z (or z and t)
     */
    static ImagePlus derivedImage(ImagePlus source, String title, ImageStack stack, int perPlane,
                                  boolean keepDensity) {
        ImagePlus image = new ImagePlus(title, stack);
        if (stack.getSize() == 1 && stack.getSliceLabel(1) != null) {
            // A single image shows (and the macro function getInfo("slice.label") reads)
            // its label from this property rather than from the stack.
            image.setProp("Slice_Label", stack.getSliceLabel(1));
        }
        int planes = source.getStackSize();
        if (stack.getSize() == planes * perPlane) {
            if (perPlane == 1 && source.isHyperStack()) {
                image.setDimensions(source.getNChannels(), source.getNSlices(), source.getNFrames());
                image.setOpenAsHyperStack(true);
            } else if (perPlane > 1 && planes > 1) {
                boolean keepZt = source.getNChannels() == 1;
                image.setDimensions(perPlane, keepZt ? source.getNSlices() : planes,
                        keepZt ? source.getNFrames() : 1);
                image.setOpenAsHyperStack(true);
            }
        }
        Calibration calibration = source.getCalibration().copy();
        if (!keepDensity) {
            calibration.disableDensityCalibration();
        }
        image.setCalibration(calibration);
        return image;
    }

    /**
     * An 8-bit label image (values 0..n-1, one slice per plane of {@code source}) with
     * {@link #labelLut()}, display range 0-255 so each label keeps its colour, and
     * {@code info} as its Info property.
     */
    static ImagePlus labelImage(ImagePlus source, String title, List<? extends ImageProcessor> labels,
                                String info) {
        ImageStack stack = new ImageStack(source.getWidth(), source.getHeight());
        for (int i = 0; i < labels.size(); i++) {
            stack.addSlice(sliceLabel(source, i + 1), labels.get(i));
        }
        ImagePlus image = derivedImage(source, title, stack, 1, false);
        image.setLut(labelLut());
        image.setDisplayRange(0, 255);
        image.setProperty("Info", info);
        return image;
    }

    /** The label of slice {@code n} of {@code source}, or null. */
    static String sliceLabel(ImagePlus source, int n) {
        return n <= source.getStackSize() ? source.getStack().getSliceLabel(n) : null;
    }

    /**
     * 256 entries: 0 black, then distinct colours (repeating after 20), so labels of a
     * threshold or clustering are told apart at a glance; 255
     * ({@link SelectionMask#OUTSIDE_LABEL}, outside the selection) white.
     */
    static LUT labelLut() {
        byte[] r = new byte[256];
        byte[] g = new byte[256];
        byte[] b = new byte[256];
        for (int i = 1; i < 256; i++) {
            int rgb = DISTINCT_COLOURS[(i - 1) % DISTINCT_COLOURS.length];
            r[i] = (byte) (rgb >> 16);
            g[i] = (byte) (rgb >> 8);
            b[i] = (byte) rgb;
        }
        r[SelectionMask.OUTSIDE_LABEL] = (byte) 255;
        g[SelectionMask.OUTSIDE_LABEL] = (byte) 255;
        b[SelectionMask.OUTSIDE_LABEL] = (byte) 255;
        return new LUT(r, g, b);
    }

    // ------------------------------------------------------------------ tables

    /** The open table called {@code title}, or a new one. */
    static ResultsTable openTable(String title) {
        ResultsTable table = ResultsTable.getResultsTable(title);
        return table != null ? table : new ResultsTable();
    }

    /** Shows {@code table} as {@code title} unless headless. */
    static void showTable(ResultsTable table, String title) {
        if (!GraphicsEnvironment.isHeadless()) {
            table.show(title);
        }
    }

    /**
     * Adds rows to {@code table} or, if it is null, to the table {@code title} (opened or
     * created, then shown unless headless), and returns the table used.
     */
    static ResultsTable addRows(ResultsTable table, String title, Consumer<ResultsTable> rows) {
        ResultsTable target = table != null ? table : openTable(title);
        rows.accept(target);
        if (table == null) {
            showTable(target, title);
        }
        return target;
    }

    /**
     * Starts a row with the columns every Visual-CCC table begins with: Image, then the
     * Channel, Slice (z) and Frame of stack index {@code index} of {@code imp} (for an image
     * made by {@link #channel}, the channel of its source).
     */
    static void startRow(ResultsTable table, ImagePlus imp, int index) {
        table.incrementCounter();
        table.addValue("Image", imp.getTitle());
        int[] position = index <= imp.getStackSize() ? imp.convertIndexToPosition(index) : new int[] {1, index, 1};
        Object channel = imp.getProperty(CHANNEL_PROPERTY);
        table.addValue("Channel", channel instanceof Integer ? (Integer) channel : position[0]);
        table.addValue("Slice", position[1]);
        table.addValue("Frame", position[2]);
    }

    /** Adds {@code value} to the current row, shown and saved with {@code decimals} decimals. */
    static void addValue(ResultsTable table, String column, double value, int decimals) {
        table.addValue(column, value);
        table.setDecimalPlaces(table.getColumnIndex(column), decimals);
    }

    /** Area of one pixel in {@link #areaUnit} (1 for an uncalibrated image). */
    static double pixelArea(Calibration calibration) {
        return calibration.pixelWidth * calibration.pixelHeight;
    }

    /**
     * The unit of calibrated areas, e.g. {@code µm^2} (also for images calibrated in
     * {@code micron} or {@code um}), or {@code pixel^2}.
     */
    static String areaUnit(Calibration calibration) {
        String unit = calibration.getUnit() == null ? "" : calibration.getUnit().trim();
        if (unit.isEmpty()) {
            // Some TIFF writers store a resolution without a unit.
            unit = calibration.pixelWidth == 1 && calibration.pixelHeight == 1 ? "pixel" : "unit";
        }
        // ImageJ accepts several spellings of micrometres; areas always say µm^2.
        if (unit.equals("micron") || unit.equals("microns") || unit.equals("um") || unit.equals("\u03bcm")) {
            unit = "\u00b5m";
        }
        return unit + "^2";
    }
}
