package org.visualccc.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.OvalRoi;
import ij.measure.ResultsTable;
import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.LUT;
import org.junit.Test;
import org.visualccc.AnalysisTestSupport;
import org.visualccc.Filters;
import org.visualccc.KMeans;
import org.visualccc.TestSupport;
import org.visualccc.Texture;

import java.awt.event.KeyEvent;
import java.util.HashSet;
import java.util.Set;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.visualccc.AnalysisTestSupport.assertRejected;

/** The scripting entry points of Preprocess, Threshold, Texture and Cluster, headless. */
public class AnalysisCommandsTest {
    private static ImagePlus halves() {
        return TestSupport.calibrated(new ImagePlus("halves.tif", AnalysisTestSupport.halves(40, 30, 40, 200, 8, 1)),
                0.5, 0.25);
    }

    private static ImagePlus stack(int slices) {
        ImageStack stack = new ImageStack(40, 30);
        for (int i = 0; i < slices; i++) {
            stack.addSlice("plane" + i, AnalysisTestSupport.halves(40, 30, 30 + 10 * i, 210 - 10 * i, 5, i));
        }
        return TestSupport.calibrated(new ImagePlus("stack.tif", stack), 0.5, 0.25);
    }

    private static void assertCalibrationCopied(ImagePlus expected, ImagePlus actual) {
        assertEquals(expected.getCalibration().pixelWidth, actual.getCalibration().pixelWidth, 0);
        assertEquals(expected.getCalibration().pixelHeight, actual.getCalibration().pixelHeight, 0);
        assertEquals(expected.getCalibration().getUnit(), actual.getCalibration().getUnit());
    }

    // ------------------------------------------------------------------ shared support

    @Test
    public void labelLutHasBlackThenDistinctColours() {
        LUT lut = CommandSupport.labelLut();
        assertEquals(256, lut.getMapSize());
        assertEquals(0, lut.getRGB(0) & 0xffffff);
        Set<Integer> colours = new HashSet<Integer>();
        for (int i = 1; i <= 20; i++) {
            colours.add(lut.getRGB(i) & 0xffffff);
        }
        assertEquals(20, colours.size());
        assertFalse(colours.contains(0));
    }

    @Test
    public void derivedTitlesDropTheExtension() {
        assertEquals("cells-gaussian", CommandSupport.derivedTitle("cells.tif", "-gaussian"));
        assertEquals("a.b-otsu", CommandSupport.derivedTitle("a.b.png", "-otsu"));
        assertEquals("image-texture", CommandSupport.derivedTitle(null, "-texture"));
    }

    // ------------------------------------------------------------------ Preprocess

    @Test
    public void preprocessMakesANewCalibratedImageAndLeavesTheOriginal() {
        ImagePlus imp = halves();
        byte[] before = ((byte[]) imp.getProcessor().getPixels()).clone();
        ImagePlus out = Preprocess.preprocess(imp, Filters.gaussian(2), false);
        assertEquals("halves-gaussian", out.getTitle());
        assertEquals(8, out.getBitDepth());
        assertCalibrationCopied(imp, out);
        assertArrayEquals(before, (byte[]) imp.getProcessor().getPixels());
        assertEquals(32, Preprocess.preprocess(imp, Filters.median(1), true).getBitDepth());
        assertEquals("halves-subtract-background",
                Preprocess.preprocess(imp, Filters.subtractBackground(10, false), false).getTitle());
        ImagePlus rgb = new ImagePlus("rgb", TestSupport.rgb(20, 20, 1));
        assertEquals(8, Preprocess.preprocess(rgb, Filters.clahe(2, 2, 2), false).getBitDepth());
    }

    @Test
    public void preprocessFiltersEverySlice() {
        ImagePlus imp = stack(3);
        ImagePlus out = Preprocess.preprocess(imp, Filters.median(2), false);
        assertEquals(3, out.getStackSize());
        assertEquals("plane2", out.getStack().getSliceLabel(3));
        assertEquals(imp.getStack().getProcessor(3).get(2, 2), out.getStack().getProcessor(3).get(2, 2), 8);
    }

    @Test
    public void preprocessDialogParametersPickTheFilter() {
        Filters.Filter f = Preprocess.filter(Filters.Operation.BILATERAL, 2, 3, 40, 8, 2, 50, false, 0.35);
        assertEquals(Filters.Operation.BILATERAL, f.operation());
        assertEquals("Bilateral (sigma 3.0, range sigma 40.0)", f.toString());
        assertEquals("CLAHE (8x8 tiles, clip limit 2.0)",
                Preprocess.filter(Filters.Operation.CLAHE, 2, 3, 40, 8, 2, 50, false, 0.35).toString());
    }

    // ------------------------------------------------------------------ Threshold

    @Test
    public void thresholdGivesALabelImageAndOneRowPerSlice() {
        ImagePlus imp = stack(2);
        ResultsTable table = new ResultsTable();
        ImagePlus labels = ThresholdOtsu.threshold(imp, 3, table);
        assertEquals("stack-otsu", labels.getTitle());
        assertEquals(8, labels.getBitDepth());
        assertEquals(2, labels.getStackSize());
        assertCalibrationCopied(imp, labels);
        assertEquals(255, labels.getDisplayRangeMax(), 0);
        assertTrue(String.valueOf(labels.getProperty("Info")).contains("scikit-image"));

        assertEquals(2, table.size());
        assertEquals(2, table.getValue("Slice", 1), 0);
        assertEquals(3, table.getValue("Classes", 0), 0);
        assertTrue(table.columnExists(table.getColumnIndex("Threshold 2")));
        double pixels = 0;
        double fractions = 0;
        for (int c = 0; c < 3; c++) {
            pixels += table.getValue("Pixels " + c, 0);
            fractions += table.getValue("Fraction " + c, 0);
            assertEquals(table.getValue("Pixels " + c, 0) * 0.5 * 0.25, table.getValue("Area " + c, 0), 1e-9);
        }
        assertEquals(1200, pixels, 0);
        assertEquals(1, fractions, 1e-9);
        assertEquals("µm^2", table.getStringValue("Area unit", 0));
        int max = 0;
        for (byte b : (byte[]) labels.getStack().getPixels(1)) {
            max = Math.max(max, b & 0xff);
        }
        assertEquals(2, max);
    }

    @Test
    public void thresholdErrorsAreArgumentErrors() {
        assertRejected("between 2 and 5 classes (got 7)", () -> ThresholdOtsu.threshold(halves(), 7, new ResultsTable()));
    }

    // ------------------------------------------------------------------ Texture

    @Test
    public void textureGivesOneMapPerFeatureAndATableRow() {
        ImagePlus imp = halves();
        ResultsTable table = new ResultsTable();
        Texture.Params params = new Texture.Params().features("contrast", "energy", "correlation");
        ImagePlus maps = TextureGlcm.texture(imp, params, table);
        assertEquals("halves-texture", maps.getTitle());
        assertEquals(32, maps.getBitDepth());
        assertEquals(3, maps.getStackSize());
        assertEquals("energy", maps.getStack().getSliceLabel(2));
        assertCalibrationCopied(imp, maps);
        assertEquals(1, table.size());
        assertTrue(table.getValue("contrast", 0) > 0);
        assertTrue(table.getValue("energy", 0) > 0);
    }

    @Test
    public void textureOfAStackIsAHyperstackWithFeaturesAsChannels() {
        ImagePlus imp = stack(3);
        ResultsTable table = new ResultsTable();
        ImagePlus maps = TextureGlcm.texture(imp, new Texture.Params().features("contrast", "ASM"), table);
        assertEquals(6, maps.getStackSize());
        assertEquals(2, maps.getNChannels());
        assertEquals(3, maps.getNSlices());
        assertEquals("ASM", maps.getStack().getSliceLabel(6));
        assertEquals(3, table.size());
        assertEquals(3, table.getValue("Slice", 2), 0);
    }

    @Test
    public void textureReferenceModeAndBadSettings() {
        ImagePlus maps = TextureGlcm.texture(halves(), Texture.Params.reference(), new ResultsTable());
        assertEquals(1, maps.getStackSize());
        assertEquals("contrast", maps.getStack().getSliceLabel(1));
        assertRejected("odd number", () -> TextureGlcm.texture(halves(), new Texture.Params().window(4),
                new ResultsTable()));
        assertArrayEquals(new int[]{1, 2, 3}, TextureGlcm.parseInts("Distances", "1, 2 3"));
        assertArrayEquals(new double[]{0, 45}, TextureGlcm.parseDoubles("Angles", " 0;45 "), 0);
        assertRejected("Distances: 1.5 is not a whole number", () -> TextureGlcm.parseInts("Distances", "1.5"));
        assertRejected("Angles: 'x' is not a number", () -> TextureGlcm.parseDoubles("Angles", "0 x"));
        assertEquals("ASM", TextureGlcm.featureLabels()[3]);
        assertEquals("Contrast", TextureGlcm.featureLabels()[0]);
    }

    // ------------------------------------------------------------------ Cluster

    @Test
    public void clusterGivesLabelsRowsPerClusterAndSliceAndCalibratedAreas() {
        ImagePlus imp = stack(2);
        ResultsTable table = new ResultsTable();
        ImagePlus labels = ClusterKMeans.cluster(imp, new KMeans.Params().k(2), null, table);
        assertEquals("stack-clusters", labels.getTitle());
        assertEquals(2, labels.getStackSize());
        assertCalibrationCopied(imp, labels);
        assertEquals(0, labels.getStack().getProcessor(1).get(3, 3));
        assertEquals(1, labels.getStack().getProcessor(2).get(37, 3));

        assertEquals(4, table.size());
        assertEquals(1, table.getValue("Slice", 1), 0);
        assertEquals(1, table.getValue("Cluster", 1), 0);
        assertEquals(2, table.getValue("Slice", 2), 0);
        assertEquals(table.getValue("Pixels", 0) * 0.125, table.getValue("Area", 0), 1e-9);
        assertEquals("µm^2", table.getStringValue("Area unit", 0));
        assertTrue(table.getValue("Mean grey", 0) < table.getValue("Mean grey", 1));
        assertTrue(table.columnExists(table.getColumnIndex("Mean smoothed grey (sigma 2)")));
        assertTrue(table.columnExists(table.getColumnIndex("Mean foreground (learned)")));
        assertTrue(table.getValue("Inertia", 0) >= 0);

        ImagePlus mask = ClusterKMeans.mask(labels, 1);
        assertEquals("stack-cluster1-mask", mask.getTitle());
        assertEquals(255, mask.getStack().getProcessor(1).get(37, 3));
        assertEquals(0, mask.getStack().getProcessor(1).get(3, 3));
        assertCalibrationCopied(imp, mask);
    }

    @Test
    public void clusterUsesAFeatureImageNamedByItsTitle() {
        ImagePlus imp = halves();
        FloatProcessor cam = new FloatProcessor(40, 30);
        ImagePlus camImage = new ImagePlus("halves-CAM", cam);
        ResultsTable table = new ResultsTable();
        ClusterKMeans.cluster(imp, new KMeans.Params().k(2).grey(true), camImage, table);
        assertTrue(table.columnExists(table.getColumnIndex("Mean halves-CAM")));
        ImagePlus wrong = new ImagePlus("small", new ByteProcessor(10, 10));
        assertRejected("'small' is 10x10", () -> ClusterKMeans.cluster(imp, new KMeans.Params(), wrong,
                new ResultsTable()));
        ImageStack two = new ImageStack(40, 30);
        two.addSlice(new FloatProcessor(40, 30));
        two.addSlice(new FloatProcessor(40, 30));
        assertRejected("needs 1 or 1", () -> ClusterKMeans.cluster(imp, new KMeans.Params(),
                new ImagePlus("two", two), new ResultsTable()));
    }

    @Test
    public void clusterErrorsAreArgumentErrors() {
        assertRejected("between 2 and 255, got 1",
                () -> ClusterKMeans.cluster(halves(), new KMeans.Params().k(1), null, new ResultsTable()));
        ImageProcessor nan = AnalysisTestSupport.withNaN(TestSupport.gray8(20, 20, 1));
        assertRejected("NaN", () -> ClusterKMeans.cluster(new ImagePlus("nan", nan), new KMeans.Params(), null,
                new ResultsTable()));
    }

    // ------------------------------------------------------------------ non-rectangular selections

    /** The oval selection of these tests, inside the 40 × 30 test images. */
    private static OvalRoi oval() {
        return new OvalRoi(4, 3, 30, 22);
    }

    /** {@link #halves()} with {@link #oval()} selected. */
    private static ImagePlus ovalHalves() {
        ImagePlus imp = halves();
        imp.setRoi(oval());
        return imp;
    }

    /** Pixels inside {@link #oval()}, counted from its mask. */
    private static int ovalPixels() {
        ImageProcessor mask = oval().getMask();
        int n = 0;
        for (int i = 0; i < mask.getPixelCount(); i++) {
            n += mask.get(i) != 0 ? 1 : 0;
        }
        return n;
    }

    private static int count(ImagePlus image, int value) {
        ImageProcessor ip = image.getProcessor();
        int n = 0;
        for (int i = 0; i < ip.getPixelCount(); i++) {
            n += ip.get(i) == value ? 1 : 0;
        }
        return n;
    }

    @Test
    public void thresholdCountsOnlyPixelsInsideAnOvalSelection() {
        ImagePlus imp = ovalHalves();
        int inside = ovalPixels();
        ResultsTable table = new ResultsTable();
        ImagePlus labels = ThresholdOtsu.threshold(imp, 2, table);
        assertEquals(40 * 30 - inside, count(labels, SelectionMask.OUTSIDE_LABEL));
        assertEquals(inside, (int) (table.getValue("Pixels 0", 0) + table.getValue("Pixels 1", 0)));
        assertEquals(1.0, table.getValue("Fraction 0", 0) + table.getValue("Fraction 1", 0), 1e-9);
        assertEquals(inside * 0.125, table.getValue("Area 0", 0) + table.getValue("Area 1", 0), 1e-9);
        assertEquals(0xffffff, CommandSupport.labelLut().getRGB(SelectionMask.OUTSIDE_LABEL) & 0xffffff);
    }

    @Test
    public void clusterCountsOnlyPixelsInsideAnOvalSelection() {
        ImagePlus imp = ovalHalves();
        int inside = ovalPixels();
        ResultsTable table = new ResultsTable();
        ImagePlus labels = ClusterKMeans.cluster(imp, new KMeans.Params().k(2), null, table);
        assertEquals(40 * 30 - inside, count(labels, SelectionMask.OUTSIDE_LABEL));
        assertEquals(inside, (int) (table.getValue("Pixels", 0) + table.getValue("Pixels", 1)));
        assertEquals(1.0, table.getValue("Fraction", 0) + table.getValue("Fraction", 1), 1e-9);
        assertEquals(table.getValue("Pixels", 1) * 0.125, table.getValue("Area", 1), 1e-9);
        assertEquals(2, ClusterKMeans.clusterRois(labels, 2, 0, 0).size());
    }

    @Test
    public void textureMapsAreNaNOutsideAnOvalSelection() {
        ImagePlus imp = ovalHalves();
        int inside = ovalPixels();
        ImagePlus maps = TextureGlcm.texture(imp, new Texture.Params().features("contrast"), new ResultsTable());
        float[] pixels = (float[]) maps.getProcessor().getPixels();
        int nan = 0;
        for (float value : pixels) {
            nan += Float.isNaN(value) ? 1 : 0;
        }
        assertEquals(40 * 30 - inside, nan);
    }

    @Test
    public void theCropOfAnOvalSelectionKeepsTheOvalAtItsOrigin() {
        ImagePlus imp = ovalHalves();
        int inside = ovalPixels();
        ImagePlus crop = CommandSupport.withinSelection(imp);
        assertEquals(30, crop.getWidth());
        assertEquals(22, crop.getHeight());
        assertEquals(new java.awt.Rectangle(0, 0, 30, 22), crop.getRoi().getBounds());
        assertEquals(inside, SelectionMask.of(crop).insideCount());
        imp.setRoi(new java.awt.Rectangle(4, 3, 30, 22));
        assertEquals(null, CommandSupport.withinSelection(imp).getRoi());
    }

    // ------------------------------------------------------------------ hyperstacks

    /** 2 channels x 2 slices, calibrated. */
    private static ImagePlus hyperstack() {
        ImagePlus imp = stack(4);
        imp.setDimensions(2, 2, 1);
        imp.setOpenAsHyperStack(true);
        return imp;
    }

    private static void assertPositions(ResultsTable table, int first, int[][] expected) {
        for (int i = 0; i < expected.length; i++) {
            String row = "row " + (first + i);
            assertEquals(row, expected[i][0], table.getValue("Channel", first + i), 0);
            assertEquals(row, expected[i][1], table.getValue("Slice", first + i), 0);
            assertEquals(row, expected[i][2], table.getValue("Frame", first + i), 0);
        }
    }

    @Test
    public void allChannelsOfAHyperstackGiveOneRowPerPlaneWithItsPosition() {
        ResultsTable table = new ResultsTable();
        ImagePlus labels = ThresholdOtsu.threshold(hyperstack(), 2, table);
        assertEquals(4, table.size());
        assertPositions(table, 0, new int[][] {{1, 1, 1}, {2, 1, 1}, {1, 2, 1}, {2, 2, 1}});
        assertEquals(2, labels.getNChannels());
        assertEquals(2, labels.getNSlices());
    }

    @Test
    public void theCurrentChannelOfAHyperstackIsAnalysedOnItsOwn() {
        ImagePlus imp = hyperstack();
        imp.setRoi(oval());
        ImagePlus channel = CommandSupport.channel(imp, 2);
        assertEquals(2, channel.getStackSize());
        assertEquals(imp.getStack().getPixels(imp.getStackIndex(2, 2, 1)), channel.getStack().getPixels(2));
        assertEquals(0.5, channel.getCalibration().pixelWidth, 0);
        imp.setPosition(2, 2, 1);
        assertEquals(2, CommandSupport.channel(imp, 2).getCurrentSlice()); // keeps the current z
        ImagePlus crop = CommandSupport.withinSelection(CommandSupport.channel(imp, 2));
        assertEquals(2, crop.getCurrentSlice());
        ResultsTable table = new ResultsTable();
        ImagePlus clusters = ClusterKMeans.cluster(crop, new KMeans.Params().k(2), null, table);
        assertEquals(2, clusters.getStackSize());
        assertPositions(table, 0, new int[][] {{2, 1, 1}, {2, 1, 1}, {2, 2, 1}, {2, 2, 1}});
        assertEquals(ovalPixels(), (int) (table.getValue("Pixels", 0) + table.getValue("Pixels", 1)));
        ImagePlus single = halves();
        assertTrue(CommandSupport.channel(single, 1) == single);
    }

    // ------------------------------------------------------------------ Esc

    @Test
    public void escBetweenSlicesStopsWithTheCompletedSlicesOnly() {
        ImagePlus imp = stack(4);
        java.util.List<Integer> done = CommandSupport.mapSlices(imp.getStack(), "testing", i -> {
            if (i == 2) {
                IJ.setKeyDown(KeyEvent.VK_ESCAPE); // as if the user pressed Esc during slice 2
            }
            return i;
        });
        assertEquals(java.util.Arrays.asList(1, 2), done);
        assertFalse("the Esc is consumed", IJ.escapePressed());
        ImagePlus first = CommandSupport.firstSlices(imp, done.size());
        ResultsTable table = new ResultsTable();
        ImagePlus labels = ThresholdOtsu.threshold(first, 2, table);
        assertEquals(2, labels.getStackSize());
        assertEquals(2, table.size());
        assertEquals(0.5, labels.getCalibration().pixelWidth, 0);
        assertTrue(CommandSupport.firstSlices(imp, 4) == imp);
    }
}
