package org.visualccc.fiji;

import ij.ImagePlus;
import ij.gui.ImageRoi;
import ij.measure.ResultsTable;
import ij.process.ByteProcessor;
import ij.process.ImageProcessor;
import org.junit.Test;
import org.visualccc.Model;
import org.visualccc.TestSupport;
import org.visualccc.WholeImageClassification;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/** The Morphology Map command's scripting entry points, headless, with the native library. */
public class MorphologyMapTest {
    @Test
    public void constantImageGivesAConstantClassMapAndTilesInTheTable() {
        byte[] grey = new byte[300 * 200];
        java.util.Arrays.fill(grey, (byte) 90);
        ImagePlus imp = TestSupport.calibrated(new ImagePlus("flat.tif", new ByteProcessor(300, 200, grey)), 0.5, 0.5);
        try (Model model = Model.open(TestSupport.fixtureTiny())) {
            MorphologyMap.Output output = MorphologyMap.map(imp, model, 25, true);
            WholeImageClassification r = output.results.get(0);
            assertEquals(6, r.columns());
            assertEquals(4, r.rows());
            assertEquals(24, r.tileCount());

            ImagePlus classes = output.classMap;
            assertEquals("flat-ClassMap", classes.getTitle());
            assertEquals(8, classes.getBitDepth());
            assertEquals(300, classes.getWidth());
            assertEquals(0.5, classes.getCalibration().pixelWidth, 0);
            byte[] labels = (byte[]) classes.getProcessor().getPixels();
            for (byte label : labels) {
                assertEquals(1 + r.predictedIndex(), label);
            }
            assertNotNull(output.cam);
            assertEquals(32, output.cam.getBitDepth());
            assertEquals(300, output.cam.getWidth());

            ResultsTable perImage = new ResultsTable();
            MorphologyMap.addRows(perImage, imp, "fixture", output.results, false);
            assertEquals(1, perImage.size());
            assertEquals(24, perImage.getValue("Tiles", 0), 0);
            ResultsTable perTile = new ResultsTable();
            MorphologyMap.addRows(perTile, imp, "fixture", output.results, true);
            assertEquals(24, perTile.size());
            assertEquals(236, perTile.getValue("X", 5), 0);

            MorphologyMap.addOverlay(imp, output.results, 40);
            assertEquals(1, imp.getOverlay().size());
            assertTrue(imp.getOverlay().get(0) instanceof ImageRoi);
            assertEquals(300, imp.getOverlay().get(0).getBounds().width);
        }
    }

    @Test
    public void coarserTilesAreReportedAndMappedInImagePixels() {
        // fixture-tile2x tiles a 256x192 image as 128x96 pixels: 2x2 tiles of 64, i.e.
        // 128x128 image pixels each, the second row shifted up to end at the border.
        byte[] grey = new byte[256 * 192];
        for (int i = 0; i < grey.length; i++) {
            grey[i] = (byte) (i % 256 < 128 ? 20 : 230);
        }
        ImagePlus imp = new ImagePlus("halves.tif", new ByteProcessor(256, 192, grey));
        try (Model model = Model.open(TestSupport.fixtureTile2x())) {
            MorphologyMap.Output output = MorphologyMap.map(imp, model, 0, true);
            WholeImageClassification r = output.results.get(0);
            assertEquals(2, r.columns());
            assertEquals(2, r.rows());
            assertEquals(128, r.tileRegion(1)[0]);
            assertEquals(64, r.tileRegion(2)[1]);
            for (int t = 0; t < r.tileCount(); t++) {
                assertEquals(128, r.tileRegion(t)[2]);
                assertEquals(128, r.tileRegion(t)[3]);
            }
            ImagePlus classes = output.classMap;
            assertEquals(256, classes.getWidth());
            assertEquals(192, classes.getHeight());
            ImageProcessor labels = classes.getProcessor();
            assertEquals(1 + r.tileClass(0), labels.get(10, 10));
            assertEquals(1 + r.tileClass(1), labels.get(250, 10));
            assertEquals(1 + r.tileClass(3), labels.get(250, 190));
            assertEquals(256, output.cam.getWidth());
            assertEquals(192, output.cam.getHeight());
        }
    }

    @Test
    public void stacksAreMappedPerSliceAndModelsWithoutFeaturesGiveNoCam() {
        ImagePlus imp = TestSupport.gray16Stack(128, 96, 2);
        try (Model model = Model.open(TestSupport.fixtureNoFeatures())) {
            MorphologyMap.Output output = MorphologyMap.map(imp, model, 0, true);
            assertEquals(2, output.results.size());
            assertEquals(2, output.classMap.getStackSize());
            assertNull(output.cam);
        }
    }

    @Test
    public void streamedByteAndGreyRgbSlicesAgree() {
        ByteProcessor grey = TestSupport.gray8(200, 150, 3);
        ImageProcessor rgb = grey.convertToRGB();
        try (Model model = Model.open(TestSupport.fixtureTiny())) {
            WholeImageClassification a = model.classifyWhole(grey, 16, 4, Model.CAM_NONE);
            WholeImageClassification b = model.classifyWhole(rgb, 16, 4, Model.CAM_NONE);
            assertEquals(a.tileCount(), b.tileCount());
            for (int k = 0; k < a.probabilities().length; k++) {
                assertEquals(a.probabilities()[k], b.probabilities()[k], 1e-5);
            }
        }
    }

    @Test
    public void badOverlapIsAnArgumentError() {
        try (Model model = Model.open(TestSupport.fixtureTiny())) {
            MorphologyMap.map(new ImagePlus("x", TestSupport.gray8(80, 80, 1)), model, 95, false);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("overlap"));
        }
    }

    @Test
    public void mapsOfLargeImagesAreScaledDown() {
        assertEquals(1, MorphologyMap.mapScale(2048, 100));
        assertEquals(2, MorphologyMap.mapScale(2049, 100));
        assertEquals(10, MorphologyMap.mapScale(20000, 20000));
    }
}
