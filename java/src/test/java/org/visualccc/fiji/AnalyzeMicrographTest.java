package org.visualccc.fiji;

import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.OvalRoi;
import ij.process.ImageProcessor;
import org.junit.Test;
import org.visualccc.AnalysisTestSupport;
import org.visualccc.Model;
import org.visualccc.TestSupport;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.visualccc.AnalysisTestSupport.assertRejected;

/** Analyze Micrograph's scripting entry point, headless, with the fixture model. */
public class AnalyzeMicrographTest {
    private static ImagePlus stack() {
        ImageStack stack = new ImageStack(160, 120);
        stack.addSlice("a", AnalysisTestSupport.halves(160, 120, 40, 200, 8, 1));
        stack.addSlice("b", AnalysisTestSupport.halves(160, 120, 60, 180, 8, 2));
        return TestSupport.calibrated(new ImagePlus("two.tif", stack), 0.5, 0.5);
    }

    @Test
    public void runsTheWholeWorkflowPerSliceAndMakesAMontage() {
        ImagePlus imp = stack();
        try (Model model = Model.open(TestSupport.fixtureTiny())) {
            AnalyzeMicrograph.Result r = AnalyzeMicrograph.analyze(imp, model, 3, 2, 40);
            int first = r.table.size() - 2;
            assertEquals(2, r.table.getValue("Slice", first + 1), 0);
            assertEquals("\u00b5m^2", r.table.getStringValue("Area unit", first));
            double fraction = r.table.getValue("Target fraction", first);
            assertTrue(fraction > 0 && fraction < 1);
            assertEquals(fraction * 160 * 120 * 0.25, r.table.getValue("Target area", first), 1e-3);
            for (ImagePlus image : new ImagePlus[] {r.heatmap, r.otsu, r.texture, r.clusters, r.targetMask}) {
                assertNotNull(image);
                assertEquals(2, image.getStackSize());
                assertEquals(0.5, image.getCalibration().pixelWidth, 0);
            }
            assertEquals("two-summary", r.montage.getTitle());
            assertEquals(3 * AnalyzeMicrograph.PANEL_WIDTH, r.montage.getWidth());
            assertEquals(24, r.montage.getBitDepth());
            assertNotNull(imp.getOverlay());
        }
    }

    @Test
    public void fractionsCountOnlyPixelsInsideAnOvalSelection() {
        ImagePlus imp = stack();
        imp.setRoi(new OvalRoi(10, 10, 140, 100));
        ImageProcessor mask = imp.getRoi().getMask();
        int inside = 0;
        for (int i = 0; i < mask.getPixelCount(); i++) {
            inside += mask.get(i) != 0 ? 1 : 0;
        }
        try (Model model = Model.open(TestSupport.fixtureTiny())) {
            AnalyzeMicrograph.Result r = AnalyzeMicrograph.analyze(imp, model, 3, 2, 40);
            int first = r.table.size() - 2;
            double fraction = r.table.getValue("Target fraction", first);
            assertEquals(fraction * inside * 0.25, r.table.getValue("Target area", first), 1e-3);
            ImageProcessor targetMask = r.targetMask.getStack().getProcessor(1);
            int target = 0;
            for (int i = 0; i < targetMask.getPixelCount(); i++) {
                target += targetMask.get(i) != 0 ? 1 : 0;
            }
            assertEquals(fraction, target / (double) inside, 1e-9);
        }
    }

    @Test
    public void rejectsAMissingTargetCluster() {
        try (Model model = Model.open(TestSupport.fixtureTiny())) {
            assertRejected("target cluster 3 does not exist", () -> AnalyzeMicrograph.analyze(stack(), model, 3, 3, 40));
        }
    }
}
