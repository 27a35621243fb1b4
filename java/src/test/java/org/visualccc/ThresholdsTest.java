package org.visualccc;

import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;
import org.junit.Test;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.visualccc.AnalysisTestSupport.assertRejected;

/** {@link Thresholds} and {@link Thresholding} against the real native library. */
public class ThresholdsTest {
    @Test
    public void otsuSplitsATwoLevelImageBetweenItsLevels() {
        ByteProcessor ip = AnalysisTestSupport.halves(40, 20, 50, 200, 0, 1);
        double[] t = Thresholds.thresholds(ip, 2);
        assertEquals(1, t.length);
        // scikit-image: every split between the levels is optimal; argmax takes the first bin.
        assertEquals(50, t[0], 0);
        Thresholding result = Thresholds.segment(ip, 2);
        assertEquals(2, result.classCount());
        assertEquals(0, result.labelProcessor().get(0, 0));
        assertEquals(1, result.labelProcessor().get(39, 19));
        assertEquals(400, result.pixelCount(0));
        assertEquals(400, result.pixelCount(1));
        assertEquals(0.5, result.areaFraction(1), 0);
    }

    @Test
    public void multiOtsuSeparatesThreeBands() {
        ByteProcessor ip = AnalysisTestSupport.bands(30, 10, 20, 100, 220);
        double[] t = Thresholds.thresholds(ip, 3);
        assertEquals(2, t.length);
        assertTrue(t[0] >= 20 && t[0] < 100);
        assertTrue(t[1] >= 100 && t[1] < 220);
        byte[] labels = Thresholds.apply(ip, t);
        assertEquals(0, labels[0]);
        assertEquals(1, labels[15]);
        assertEquals(2, labels[29]);
        Thresholding result = Thresholds.segment(ip, 3);
        assertEquals(100, result.pixelCount(0));
        assertEquals(100, result.pixelCount(2));
    }

    @Test
    public void aPixelEqualToTheThresholdStaysInTheLowerClass() {
        FloatProcessor ip = new FloatProcessor(3, 1, new float[]{1, 2, 3});
        byte[] labels = Thresholds.apply(ip, new double[]{2});
        assertEquals(0, labels[0]);
        assertEquals(0, labels[1]);
        assertEquals(1, labels[2]);
    }

    @Test
    public void everyPixelTypeGivesThresholdsInItsOwnUnits() {
        ShortProcessor ip16 = new ShortProcessor(40, 20);
        FloatProcessor ip32 = new FloatProcessor(40, 20);
        for (int x = 0; x < 40; x++) {
            for (int y = 0; y < 20; y++) {
                ip16.set(x, y, x < 20 ? 1000 : 30000);
                ip32.setf(x, y, x < 20 ? -2f : 5f);
            }
        }
        double t16 = Thresholds.thresholds(ip16, 2)[0];
        assertTrue("16-bit " + t16, t16 > 1000 && t16 < 30000);
        double t32 = Thresholds.thresholds(ip32, 2)[0];
        assertTrue("32-bit " + t32, t32 > -2 && t32 < 5);
        for (int type = 0; type < 4; type++) {
            ImageProcessor ip = TestSupport.anyType(type, 50, 30, type);
            Thresholding r = Thresholds.segment(ip, 4);
            assertEquals(3, r.thresholds().length);
            assertEquals(1500, r.pixelCount(0) + r.pixelCount(1) + r.pixelCount(2) + r.pixelCount(3));
        }
    }

    @Test
    public void badArgumentsAreRejectedWithTheCoresMessage() {
        ByteProcessor ip = TestSupport.gray8(32, 32, 1);
        assertRejected("between 2 and 5 classes (got 1)", () -> Thresholds.thresholds(ip, 1));
        assertRejected("between 2 and 5 classes (got 6)", () -> Thresholds.segment(ip, 6));
        assertRejected("between 2 and 5 classes (got -3)", () -> Thresholds.segment(ip, -3));
        ByteProcessor constant = new ByteProcessor(10, 10);
        assertRejected("distinct value", () -> Thresholds.segment(constant, 3));
        assertRejected("NaN", () -> Thresholds.segment(AnalysisTestSupport.withNaN(ip), 2));
        assertRejected("image is empty", () -> Thresholds.thresholds(AnalysisTestSupport.empty(), 2));
        assertRejected("ascending", () -> Thresholds.apply(ip, new double[]{5, 3}));
        assertRejected("between 1 and 255 thresholds", () -> Thresholds.apply(ip, new double[0]));
        assertRejected("no thresholds", () -> Thresholds.apply(ip, null));
    }

    @Test
    public void twoClassesOfAConstantImageAreAllBackground() {
        ByteProcessor constant = new ByteProcessor(10, 10);
        constant.set(7);
        Thresholding result = Thresholds.segment(constant, 2);
        assertEquals(7, result.thresholds()[0], 0);
        assertEquals(100, result.pixelCount(0));
    }

    @Test
    public void inconsistentResultsAreRefused() {
        assertRejected("are not 2x2", () -> new Thresholding(new double[]{1}, new byte[3], 2, 2));
        assertRejected("label 5", () -> new Thresholding(new double[]{1}, new byte[]{0, 1, 5, 0}, 2, 2));
        assertRejected("thresholds", () -> new Thresholding(new double[0], new byte[4], 2, 2));
    }
}
