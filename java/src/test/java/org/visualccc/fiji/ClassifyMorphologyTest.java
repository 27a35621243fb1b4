package org.visualccc.fiji;

import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.ImageRoi;
import ij.gui.Overlay;
import ij.gui.TextRoi;
import ij.measure.Calibration;
import ij.measure.ResultsTable;
import ij.process.ImageProcessor;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.visualccc.BundledModels;
import org.visualccc.Classification;
import org.visualccc.Model;
import org.visualccc.TestSupport;

import java.io.File;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/** The Fiji command's scripting entry points, headless, with the real native library. */
public class ClassifyMorphologyTest {
    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private static ImagePlus sample() {
        ImagePlus imp = new ImagePlus("sample.tif", TestSupport.gray8(300, 200, 1));
        Calibration cal = imp.getCalibration();
        cal.pixelWidth = 0.25;
        cal.pixelHeight = 0.25;
        cal.setUnit("um");
        return imp;
    }

    // ------------------------------------------------------------------ no native code

    @Test
    public void modelListHasInstalledModelsThenTheFixture() throws IOException {
        File dir = temp.newFolder("models");
        assertTrue(new File(dir, "b-model.onnx").createNewFile());
        assertTrue(new File(dir, "a-model.onnx").createNewFile());
        assertTrue(new File(dir, "readme.txt").createNewFile());
        String old = System.getProperty(ClassifyMorphology.MODELS_DIR_PROPERTY);
        System.setProperty(ClassifyMorphology.MODELS_DIR_PROPERTY, dir.getPath());
        try {
            Map<String, String> models = ClassifyMorphology.availableModels();
            List<String> labels = Arrays.asList(models.keySet().toArray(new String[0]));
            int a = labels.indexOf("a-model.onnx");
            int b = labels.indexOf("b-model.onnx");
            int fixture = labels.indexOf(BundledModels.FIXTURE_TINY_LABEL);
            assertTrue(labels.toString(), a >= 0 && b > a && fixture > b);
            assertEquals(new File(dir, "a-model.onnx").getAbsolutePath(), models.get("a-model.onnx"));
            assertTrue(labels.toString(), !labels.contains("readme.txt"));
        } finally {
            TestSupport.restoreProperty(ClassifyMorphology.MODELS_DIR_PROPERTY, old);
        }
    }

    @Test
    public void shippedMorphologyModelIsTheDefaultChoiceAndTrained() {
        List<String> labels = Arrays.asList(ClassifyMorphology.availableModels().keySet().toArray(new String[0]));
        assertEquals(labels.toString(), "morphology", labels.get(0));
        assertTrue(labels.toString(), labels.contains("uhcs"));
        for (String name : BundledModels.TRAINED) {
            File file = ClassifyMorphology.resolveModel(name);
            assertEquals(name + ".onnx", file.getName());
            try (Model model = Model.open(file.getPath())) {
                assertTrue(name + " must be a trained model", !model.isFixture());
            }
        }
    }

    @Test
    public void fixtureLabelResolvesToTheBundledModel() {
        File file = ClassifyMorphology.resolveModel(BundledModels.FIXTURE_TINY_LABEL);
        assertTrue(file.isFile());
        assertEquals("fixture-tiny.onnx", file.getName());
        assertEquals(file, ClassifyMorphology.resolveModel("fixture-tiny"));
        assertEquals(new File("/x/y.onnx"), ClassifyMorphology.resolveModel("/x/y.onnx"));
    }

    @Test
    public void heatmapTitleDropsTheExtensionOnly() {
        assertEquals("blobs-CAM", ClassifyMorphology.heatmapTitle("blobs.gif"));
        assertEquals("my sample-CAM", ClassifyMorphology.heatmapTitle("my sample.tif"));
        assertEquals("stack-CAM", ClassifyMorphology.heatmapTitle("stack"));
        assertEquals("a.b.c-CAM", ClassifyMorphology.heatmapTitle("a.b.c.ome"));
        assertEquals("v1.0 final-CAM", ClassifyMorphology.heatmapTitle("v1.0 final"));
    }

    @Test
    public void badOpacityIsRejectedBeforeAnythingRuns() {
        try {
            ClassifyMorphology.classify(sample(), BundledModels.FIXTURE_TINY_LABEL, 101, false, true);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("opacity"));
        }
    }

    @Test
    public void missingModelFileIsAnArgumentError() {
        try {
            ClassifyMorphology.classify(sample(), temp.getRoot() + "/absent.onnx", 40, false, false);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("absent.onnx") && e.getMessage().contains("does not exist"));
        }
    }

    // ------------------------------------------------------------------ with the native library

    @Test
    public void classifiesOnlyTheSelection() {
        ImagePlus imp = sample();
        java.awt.Rectangle selection = new java.awt.Rectangle(50, 40, 120, 90);
        imp.setRoi(selection);
        ClassifyMorphology.classify(imp, BundledModels.FIXTURE_TINY_LABEL, 40, false, true);
        java.awt.Rectangle overlay = imp.getOverlay().get(0).getBounds();
        assertTrue(overlay + " inside " + selection, selection.contains(overlay));
        assertTrue(overlay.width > 60);
    }

    @Test
    public void theHeatmapOverlayGetsAColourBarLabelledZeroAndOne() {
        ImagePlus imp = sample();
        assertTrue(!ColourBar.add(imp, ClassifyMorphology.OVERLAY_NAME));
        ClassifyMorphology.classify(imp, BundledModels.FIXTURE_TINY_LABEL, 40, false, true);
        int heatmapItems = imp.getOverlay().size();
        assertTrue(ColourBar.add(imp, ClassifyMorphology.OVERLAY_NAME));
        assertTrue(ColourBar.add(imp, ClassifyMorphology.OVERLAY_NAME)); // replaces, does not pile up
        Overlay overlay = imp.getOverlay();
        assertEquals(heatmapItems + 3, overlay.size());
        StringBuilder labels = new StringBuilder();
        java.awt.Rectangle image = new java.awt.Rectangle(imp.getWidth(), imp.getHeight());
        for (int i = heatmapItems; i < overlay.size(); i++) {
            assertEquals(ClassifyMorphology.OVERLAY_NAME + ColourBar.SUFFIX, overlay.get(i).getName());
            assertTrue(overlay.get(i).getBounds() + " inside the image", image.contains(overlay.get(i).getBounds()));
            if (overlay.get(i) instanceof TextRoi) {
                labels.append(((TextRoi) overlay.get(i)).getText().trim());
            }
        }
        assertTrue(overlay.get(heatmapItems) instanceof ImageRoi);
        assertEquals("10", labels.toString());
        ClassifyMorphology.classify(imp, BundledModels.FIXTURE_TINY_LABEL, 40, false, true);
        assertEquals(heatmapItems, imp.getOverlay().size()); // a new overlay drops the old bar
    }

    @Test
    public void theCurrentChannelOfAHyperstackIsClassifiedWithTheOverlayOnItsPlanes() {
        ImageStack stack = new ImageStack(120, 100);
        for (int i = 1; i <= 4; i++) {
            stack.addSlice("plane" + i, TestSupport.gray8(120, 100, i));
        }
        ImagePlus imp = new ImagePlus("hyper.tif", stack);
        imp.setDimensions(2, 2, 1);
        imp.setOpenAsHyperStack(true);
        try (Model model = Model.open(TestSupport.fixtureTiny())) {
            ResultsTable table = ClassifyMorphology.classify(imp, model, 40, false, true, 2);
            int first = table.size() - 2;
            for (int z = 1; z <= 2; z++) {
                assertEquals(2, table.getValue("Channel", first + z - 1), 0);
                assertEquals(z, table.getValue("Slice", first + z - 1), 0);
            }
            Overlay overlay = imp.getOverlay();
            assertEquals(2, overlay.size());
            for (int i = 0; i < 2; i++) {
                assertEquals(2, overlay.get(i).getCPosition());
                assertEquals(i + 1, overlay.get(i).getZPosition());
            }
        }
    }

    @Test
    public void classifiesAnImageIntoTheTableWithOverlay() {
        ImagePlus imp = sample();
        byte[] before = ((byte[]) imp.getProcessor().getPixels()).clone();
        ResultsTable table = ClassifyMorphology.classify(imp, BundledModels.FIXTURE_TINY_LABEL, 40, false, true);

        assertEquals(1, table.size());
        String headings = Arrays.toString(table.getHeadings());
        for (String column : new String[]{"Image", "Slice", "Model", "Class", "P(alloy)", "P(dendrite)",
                "P(spheroid)"}) {
            assertTrue(column + " in " + headings, table.columnExists(column) || headings.contains(column));
        }
        assertEquals("sample.tif", table.getStringValue("Image", 0));
        assertEquals(1, table.getValue("Slice", 0), 0);
        assertEquals(BundledModels.FIXTURE_TINY_LABEL, table.getStringValue("Model", 0));
        String predicted = table.getStringValue("Class", 0);
        assertTrue(predicted, Arrays.asList("alloy", "dendrite", "spheroid").contains(predicted));
        double sum = table.getValue("P(alloy)", 0) + table.getValue("P(dendrite)", 0)
                + table.getValue("P(spheroid)", 0);
        assertEquals(1.0, sum, 1e-5);

        Overlay overlay = imp.getOverlay();
        assertNotNull(overlay);
        assertEquals(1, overlay.size());
        assertTrue(overlay.get(0) instanceof ImageRoi);
        ImageRoi roi = (ImageRoi) overlay.get(0);
        assertEquals(0.4, roi.getOpacity(), 1e-6);
        assertEquals(ClassifyMorphology.OVERLAY_NAME, roi.getName());
        assertEquals(167, roi.getBounds().width, 1);
        assertArrayEquals("pixels untouched", before, (byte[]) imp.getProcessor().getPixels());
        assertTrue("not marked as changed", !imp.changes);

        // Running again replaces the overlay item instead of stacking another one.
        ClassifyMorphology.classify(imp, BundledModels.FIXTURE_TINY_LABEL, 60, false, true);
        assertEquals(1, imp.getOverlay().size());
        assertEquals(0.6, ((ImageRoi) imp.getOverlay().get(0)).getOpacity(), 1e-6);
    }

    @Test
    public void heatmapIs32BitWithCamInsideTheRegionAndZeroOutside() {
        ImagePlus imp = sample();
        try (Model model = Model.open(TestSupport.fixtureTiny())) {
            List<Classification> results = ClassifyMorphology.classifySlices(imp, model, Model.CAM_PREDICTED);
            assertEquals(1, results.size());
            Classification c = results.get(0);
            ImagePlus heatmap = ClassifyMorphology.createHeatmap(imp, results, "fixture");
            assertEquals("sample-CAM", heatmap.getTitle());
            assertEquals(32, heatmap.getBitDepth());
            assertEquals(300, heatmap.getWidth());
            assertEquals(200, heatmap.getHeight());
            assertEquals(0.25, heatmap.getCalibration().pixelWidth, 0);
            assertEquals(imp.getCalibration().getUnit(), heatmap.getCalibration().getUnit());
            assertEquals(0, heatmap.getDisplayRangeMin(), 0);
            assertEquals(1, heatmap.getDisplayRangeMax(), 0);
            ImageProcessor ip = heatmap.getProcessor();
            assertEquals(0f, ip.getf(0, 0), 0f);
            assertEquals(0f, ip.getf(299, 199), 0f);
            assertEquals(0f, ip.getf(c.regionX() - 1, 100), 0f);
            for (int y = 0; y < c.camHeight(); y += 7) {
                for (int x = 0; x < c.camWidth(); x += 5) {
                    assertEquals(c.camValue(x, y), ip.getf(c.regionX() + x, c.regionY() + y), 0f);
                }
            }
        }
    }

    @Test
    public void everySliceOfAStackIsClassified() {
        ImagePlus imp = TestSupport.gray16Stack(160, 120, 3);
        ResultsTable table = ClassifyMorphology.classify(imp, BundledModels.FIXTURE_TINY_LABEL, 40, false, true);
        assertEquals(3, table.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i + 1, table.getValue("Slice", i), 0);
        }
        assertEquals(3, imp.getOverlay().size());
        assertEquals(2, imp.getOverlay().get(1).getPosition());

        try (Model model = Model.open(TestSupport.fixtureTiny())) {
            List<Classification> results = ClassifyMorphology.classifySlices(imp, model, Model.CAM_PREDICTED);
            ImagePlus heatmap = ClassifyMorphology.createHeatmap(imp, results, "fixture");
            assertEquals(3, heatmap.getStackSize());
            assertEquals(32, heatmap.getBitDepth());
            assertEquals("slice1", heatmap.getStack().getSliceLabel(2));
        }
    }

    @Test
    public void modelWithoutFeaturesStillFillsTheTable() {
        ImagePlus imp = sample();
        ResultsTable table = ClassifyMorphology.classify(imp, TestSupport.fixtureNoFeatures(), 40, true, true);
        assertEquals(1, table.size());
        assertNull("no overlay without a CAM", imp.getOverlay() == null || imp.getOverlay().size() == 0 ? null : "");
    }

    @Test
    public void unfamiliarImagesGetColumnsAndACaption() {
        // The shipped model has an unfamiliar threshold: the table says 0 or 1.
        ImagePlus imp = sample();
        ResultsTable table = ClassifyMorphology.classify(imp, "morphology", 40, false, false);
        assertTrue(table.columnExists("Unfamiliar"));
        double flag = table.getValue("Unfamiliar", 0);
        assertTrue(flag == 0 || flag == 1);
        assertTrue(table.columnExists("Unfamiliarity"));

        // An unfamiliar result puts a caption next to its CAM; a familiar one does not.
        float[] cam = new float[6];
        String[] names = {"alloy", "dendrite", "spheroid"};
        Classification unfamiliar = new Classification(names, 0, new double[] {0.61, 0.2, 0.19}, 0, cam, 3, 2, 0,
                0, 3, 2, -0.1, 1);
        Classification familiar = new Classification(names, 0, new double[] {0.9, 0.05, 0.05}, 0, cam, 3, 2, 0,
                0, 3, 2, -3.0, 0);
        ImagePlus a = sample();
        ClassifyMorphology.addOverlay(a, Arrays.asList(unfamiliar), 40);
        assertEquals(2, a.getOverlay().size());
        assertTrue(a.getOverlay().get(1) instanceof TextRoi);
        assertTrue(((TextRoi) a.getOverlay().get(1)).getText().contains("is a guess"));
        ImagePlus b = sample();
        ClassifyMorphology.addOverlay(b, Arrays.asList(familiar), 40);
        assertEquals(1, b.getOverlay().size());
    }
}
