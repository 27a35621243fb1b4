package org.visualccc;

import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;
import org.junit.Test;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.visualccc.AnalysisTestSupport.assertRejected;

/** {@link Filters} against the real native library. */
public class FiltersTest {
    private static final Filters.Filter[] ALL = {Filters.median(1), Filters.gaussian(1.5), Filters.bilateral(2, 30),
        Filters.clahe(4, 4, 2), Filters.subtractBackground(20, false), Filters.contrastStretch(0.35)};

    @Test
    public void everyFilterKeepsSizeAndDepthOfEveryType() {
        for (int type = 0; type < 4; type++) {
            ImageProcessor ip = TestSupport.anyType(type, 64, 48, type);
            Object before = ip.duplicate().getPixels();
            for (Filters.Filter filter : ALL) {
                ImageProcessor same = filter.apply(ip, Filters.SAME_DEPTH);
                assertEquals(filter + " width", 64, same.getWidth());
                assertEquals(filter + " height", 48, same.getHeight());
                int expected = ip instanceof ColorProcessor ? 8 : ip.getBitDepth();
                assertEquals(filter + " on " + ip.getBitDepth() + "-bit", expected, same.getBitDepth());
                assertEquals(32, filter.apply(ip, 32).getBitDepth());
            }
            assertPixelsEqual(before, ip.getPixels());
        }
    }

    private static void assertPixelsEqual(Object expected, Object actual) {
        if (expected instanceof byte[]) {
            assertArrayEquals((byte[]) expected, (byte[]) actual);
        } else if (expected instanceof short[]) {
            assertArrayEquals((short[]) expected, (short[]) actual);
        } else if (expected instanceof float[]) {
            assertArrayEquals((float[]) expected, (float[]) actual, 0f);
        } else {
            assertArrayEquals((int[]) expected, (int[]) actual);
        }
    }

    @Test
    public void gaussianOfAConstantImageIsConstant() {
        FloatProcessor ip = new FloatProcessor(20, 10);
        ip.set(7.25);
        ImageProcessor out = Filters.gaussian(3).apply(ip, 32);
        for (float v : (float[]) out.getPixels()) {
            assertEquals(7.25f, v, 1e-5f);
        }
    }

    @Test
    public void medianInTheInputDepthEqualsTheFloatMedianConvertedBack() {
        // The input's depth is filtered in place by the core, other depths through a float
        // image: both must give the same pixels.
        for (int type = 0; type < 4; type++) {
            ImageProcessor ip = TestSupport.anyType(type, 70, 50, type + 5);
            int depth = ip instanceof ColorProcessor ? 8 : ip.getBitDepth();
            for (int radius = 1; radius <= 3; radius++) {
                ImageProcessor same = Filters.median(radius).apply(ip, Filters.SAME_DEPTH);
                ImageProcessor converted = Filters.median(radius).apply(ip, depth);
                assertPixelsEqual(converted.getPixels(), same.getPixels());
            }
        }
    }

    @Test
    public void medianRemovesAnIsolatedSpike() {
        ByteProcessor ip = new ByteProcessor(9, 9);
        ip.set(50);
        ip.set(4, 4, 255);
        ImageProcessor out = Filters.median(1).apply(ip, Filters.SAME_DEPTH);
        assertEquals(50, out.get(4, 4));
    }

    @Test
    public void rgbIsFilteredAsLuminance() {
        ColorProcessor ip = new ColorProcessor(8, 8);
        ip.setColor(new java.awt.Color(200, 100, 50));
        ip.fill();
        ImageProcessor out = Filters.gaussian(1).apply(ip, 32);
        assertEquals(0.299 * 200 + 0.587 * 100 + 0.114 * 50, out.getf(3, 3), 1e-3);
    }

    @Test
    public void contrastStretchReachesTheTypeRange() {
        ShortProcessor ip = TestSupport.gray16(50, 40, 3);
        ImageProcessor out = Filters.contrastStretch(0).apply(ip, Filters.SAME_DEPTH);
        out.resetMinAndMax();
        assertEquals(0, out.getMin(), 0);
        assertEquals(65535, out.getMax(), 0);
    }

    @Test
    public void subtractBackgroundKeepsASmallSpotAndRemovesTheLevel() {
        FloatProcessor ip = new FloatProcessor(64, 64);
        ip.set(20);
        for (int y = 30; y < 33; y++) {
            for (int x = 30; x < 33; x++) {
                ip.setf(x, y, 200);
            }
        }
        ImageProcessor out = Filters.subtractBackground(20, false).apply(ip, 32);
        assertEquals(0, out.getf(5, 5), 1e-4);
        assertEquals(180, out.getf(31, 31), 1);
    }

    @Test
    public void badParametersAreRejectedWithTheCoresMessage() {
        ByteProcessor ip = TestSupport.gray8(32, 32, 1);
        assertRejected("median radius must be between 1", () -> Filters.median(0).apply(ip, 0));
        assertRejected("median radius must not be negative", () -> Filters.median(-1).apply(ip, 0));
        assertRejected("Gaussian sigma must be greater than 0", () -> Filters.gaussian(-1).apply(ip, 0));
        assertRejected("Gaussian sigma", () -> Filters.gaussian(Double.NaN).apply(ip, 0));
        assertRejected("bilateral range sigma", () -> Filters.bilateral(2, 0).apply(ip, 0));
        assertRejected("CLAHE needs between 1", () -> Filters.clahe(0, 4, 2).apply(ip, 0));
        assertRejected("finer than", () -> Filters.clahe(64, 64, 2).apply(ip, 0));
        assertRejected("background radius", () -> Filters.subtractBackground(0, true).apply(ip, 0));
        assertRejected("saturated percentage", () -> Filters.contrastStretch(60).apply(ip, 0));
        assertRejected("cannot convert to 12-bit", () -> Filters.gaussian(1).apply(ip, 12));
        assertRejected("output bit depth", () -> Filters.gaussian(1).apply(ip, -8));
    }

    @Test
    public void nanPixelsAndEmptyImagesAreRejected() {
        FloatProcessor nan = AnalysisTestSupport.withNaN(TestSupport.gray8(16, 16, 2));
        assertRejected("1 NaN", () -> Filters.median(1).apply(nan, 0));
        assertRejected("NaN", () -> Filters.gaussian(1).apply(nan, 0));
        assertRejected("image is empty", () -> Filters.gaussian(1).apply(AnalysisTestSupport.empty(), 0));
        assertRejected("no image", () -> Filters.gaussian(1).apply(null, 0));
    }

    @Test
    public void operationsHaveLabelsAndSlugs() {
        assertEquals(Filters.Operation.SUBTRACT_BACKGROUND, Filters.Operation.parse("subtract background"));
        assertEquals(Filters.Operation.CLAHE, Filters.Operation.parse("CLAHE"));
        assertEquals("contrast-stretch", Filters.Operation.CONTRAST_STRETCH.slug());
        assertEquals(6, Filters.Operation.labels().length);
        assertRejected("unknown preprocessing operation", () -> Filters.Operation.parse("sharpen"));
        assertEquals("Gaussian (sigma 2.0)", Filters.gaussian(2).toString());
    }
}
