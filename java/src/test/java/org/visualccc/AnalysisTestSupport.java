package org.visualccc;

import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;

import java.util.Random;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/** Images with known structure and an assertion for the analysis classes' argument errors. */
public final class AnalysisTestSupport {
    private AnalysisTestSupport() {
    }

    /** Something that should throw. */
    public interface Call {
        void run();
    }

    /** Asserts that {@code call} throws IllegalArgumentException with {@code fragment} in its message. */
    public static void assertRejected(String fragment, Call call) {
        try {
            call.run();
            fail("expected an IllegalArgumentException containing '" + fragment + "'");
        } catch (IllegalArgumentException e) {
            assertTrue("message '" + e.getMessage() + "' lacks '" + fragment + "'",
                    e.getMessage() != null && e.getMessage().contains(fragment));
        }
    }

    /** Left half {@code dark}, right half {@code bright}, plus uniform noise of ±{@code noise}. */
    public static ByteProcessor halves(int width, int height, int dark, int bright, int noise, long seed) {
        Random random = new Random(seed);
        ByteProcessor ip = new ByteProcessor(width, height);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int base = x < width / 2 ? dark : bright;
                int jitter = noise == 0 ? 0 : random.nextInt(2 * noise + 1) - noise;
                ip.set(x, y, Math.max(0, Math.min(255, base + jitter)));
            }
        }
        return ip;
    }

    /** Three vertical bands of the given grey values. */
    public static ByteProcessor bands(int width, int height, int a, int b, int c) {
        ByteProcessor ip = new ByteProcessor(width, height);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                ip.set(x, y, x < width / 3 ? a : x < 2 * width / 3 ? b : c);
            }
        }
        return ip;
    }

    /** A 32-bit copy of {@code ip} with one NaN pixel. */
    public static FloatProcessor withNaN(ImageProcessor ip) {
        FloatProcessor fp = ip.convertToFloatProcessor();
        fp.setf(3, 2, Float.NaN);
        return fp;
    }

    /** A 0×0 image. */
    public static FloatProcessor empty() {
        return new FloatProcessor(0, 0, new float[0]);
    }
}
