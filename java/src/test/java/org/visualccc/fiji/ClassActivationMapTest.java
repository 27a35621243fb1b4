package org.visualccc.fiji;

import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.ImageRoi;
import ij.process.FloatProcessor;
import org.junit.Test;
import org.visualccc.BundledModels;
import org.visualccc.Classification;
import org.visualccc.Model;
import org.visualccc.TestSupport;
import org.visualccc.VisualCccException;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/** Class Activation Map: every method through JNI, the command's outputs, and its errors. */
public class ClassActivationMapTest {
    private static ImagePlus twoSlices() {
        ImageStack stack = new ImageStack(120, 90);
        stack.addSlice("a", TestSupport.gray8(120, 90, 1));
        stack.addSlice("b", TestSupport.gray8(120, 90, 2));
        return TestSupport.calibrated(new ImagePlus("pair.tif", stack), 0.5, 0.5);
    }

    @Test
    public void everyMethodGivesAUnitMapOverTheRegion() {
        try (Model model = Model.open(TestSupport.fixtureTiny())) {
            for (String method : Model.CAM_METHODS) {
                Classification c = model.activationMap(TestSupport.gray16(100, 80, 3), method, 1);
                assertTrue(method, c.hasCam());
                assertEquals(method, 1, c.camClass());
                assertEquals(method, c.regionWidth() * c.regionHeight(), c.cam().length);
                for (float v : c.cam()) {
                    assertTrue(method + ": " + v, v >= 0f && v <= 1f);
                }
            }
        }
    }

    @Test
    public void commandMakesACalibratedHeatmapOverlayAndRowsPerSlice() {
        ImagePlus imp = twoSlices();
        ImagePlus heatmap = ClassActivationMap.explain(imp, BundledModels.FIXTURE_TINY_LABEL, "eigen-cam",
                "dendrite", 30);
        assertEquals("pair-CAM", heatmap.getTitle());
        assertEquals(2, heatmap.getStackSize());
        assertTrue(heatmap.getProcessor() instanceof FloatProcessor);
        assertEquals(0.5, heatmap.getCalibration().pixelWidth, 0);
        assertEquals(imp.getCalibration().getUnit(), heatmap.getCalibration().getUnit());
        assertTrue(String.valueOf(heatmap.getProperty("Info")).startsWith("Method: eigen-cam"));
        assertNotNull(imp.getOverlay());
        assertEquals(2, imp.getOverlay().size());
        assertEquals(0.3, ((ImageRoi) imp.getOverlay().get(0)).getOpacity(), 1e-6);
    }

    @Test
    public void aSelectionIsExplainedInPlaceOnTheWholeImage() {
        ImagePlus imp = twoSlices();
        imp.setRoi(new ij.gui.Roi(40, 20, 70, 60));
        ImagePlus heatmap = ClassActivationMap.explain(imp, BundledModels.FIXTURE_TINY_LABEL, "cam",
                "predicted", 40);
        assertEquals(imp.getWidth(), heatmap.getWidth());
        assertEquals(imp.getHeight(), heatmap.getHeight());
        ImageRoi overlay = (ImageRoi) imp.getOverlay().get(0);
        java.awt.Rectangle drawn = overlay.getBounds();
        assertTrue("overlay " + drawn + " lies inside the selection",
                new java.awt.Rectangle(40, 20, 70, 60).contains(drawn));
        assertEquals(0f, heatmap.getStack().getProcessor(1).getf(5, 5), 0f);
    }

    @Test
    public void targetClassIsPredictedOrANamedClass() {
        try (Model model = Model.open(TestSupport.fixtureTiny())) {
            assertEquals(Model.CAM_PREDICTED, ClassActivationMap.classIndex(model, "predicted"));
            assertEquals(Model.CAM_PREDICTED, ClassActivationMap.classIndex(model, " "));
            assertEquals(2, ClassActivationMap.classIndex(model, "spheroid"));
            try {
                ClassActivationMap.classIndex(model, "pearlite");
                fail();
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("alloy"));
            }
        }
    }

    @Test
    public void modelWithoutFeaturesOffersOcclusionAndSaysWhy() {
        try (Model model = Model.open(TestSupport.fixtureNoFeatures())) {
            Classification c = model.activationMap(TestSupport.gray8(64, 64, 4), Model.CAM_METHOD_OCCLUSION,
                    Model.CAM_PREDICTED);
            assertTrue(c.hasCam());
            try {
                model.activationMap(TestSupport.gray8(64, 64, 4), "score-cam", Model.CAM_PREDICTED);
                fail();
            } catch (VisualCccException e) {
                assertEquals(VisualCccException.Kind.MODEL, e.kind());
                assertTrue(e.getMessage(), e.getMessage().contains("features") && e.getMessage().contains("occlusion"));
            }
        }
    }

    @Test
    public void unknownMethodIsAnArgumentError() {
        try {
            ClassActivationMap.explain(twoSlices(), BundledModels.FIXTURE_TINY_LABEL, "lime", "predicted", 40);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("score-cam"));
        }
    }
}
