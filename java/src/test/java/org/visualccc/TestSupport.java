package org.visualccc;

import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;

import java.io.File;
import java.util.Random;

import static org.junit.Assert.assertTrue;

/** Shared fixtures and synthetic images for the tests. */
public final class TestSupport {
    /** Set by build.gradle; falls back to the repository layout when run from the root. */
    public static final String FIXTURES_PROPERTY = "visualccc.fixtures.dir";

    private TestSupport() {
    }

    public static File fixturesDir() {
        String dir = System.getProperty(FIXTURES_PROPERTY);
        File file = dir != null ? new File(dir) : new File("tests/fixtures/models");
        assertTrue("fixture models directory " + file.getAbsolutePath() + " is missing (set -D"
                + FIXTURES_PROPERTY + ")", file.isDirectory());
        return file;
    }

    public static String fixtureTiny() {
        return fixture("fixture-tiny.onnx");
    }

    public static String fixtureNoFeatures() {
        return fixture("fixture-no-features.onnx");
    }

    /** fixture-tiny whose whole-image tiles cover 128 source pixels (visualccc.tile_source_size). */
    public static String fixtureTile2x() {
        return fixture("fixture-tile2x.onnx");
    }

    private static String fixture(String name) {
        File file = new File(fixturesDir(), name);
        assertTrue("missing fixture model " + file, file.isFile());
        return file.getAbsolutePath();
    }

    /** Grey value in [0, 1] of a structured test pattern: gradient, stripes and a bright blob. */
    public static double pattern(int x, int y, int width, int height, long seed) {
        Random random = new Random(seed * 1000003L + y * 7919L + x);
        double gx = (double) x / width;
        double stripes = 0.5 + 0.5 * Math.sin((x + 2 * y + seed) / 6.0);
        double dx = x - width * (0.4 + 0.05 * (seed % 5));
        double dy = y - height * 0.55;
        double blob = Math.exp(-(dx * dx + dy * dy) / (2 * Math.pow(Math.min(width, height) / 7.0, 2)));
        double v = 0.25 * gx + 0.3 * stripes * (seed % 2 == 0 ? 1 : 0.3) + 0.5 * blob + 0.05 * random.nextDouble();
        return Math.max(0, Math.min(1, v));
    }

    public static ByteProcessor gray8(int width, int height, long seed) {
        ByteProcessor ip = new ByteProcessor(width, height);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                ip.set(x, y, (int) Math.round(255 * pattern(x, y, width, height, seed)));
            }
        }
        return ip;
    }

    public static ShortProcessor gray16(int width, int height, long seed) {
        ShortProcessor ip = new ShortProcessor(width, height);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                ip.set(x, y, 1000 + (int) Math.round(40000 * pattern(x, y, width, height, seed)));
            }
        }
        return ip;
    }

    /**
     * A stack titled "stack" of {@code slices} {@link #gray16} slices (seeds 0, 1, …),
     * labelled "slice0", "slice1", ….
     */
    public static ImagePlus gray16Stack(int width, int height, int slices) {
        ImageStack stack = new ImageStack(width, height);
        for (int i = 0; i < slices; i++) {
            stack.addSlice("slice" + i, gray16(width, height, i));
        }
        return new ImagePlus("stack", stack);
    }

    public static FloatProcessor gray32(int width, int height, long seed) {
        FloatProcessor ip = new FloatProcessor(width, height);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                ip.setf(x, y, (float) (-3.5 + 12.25 * pattern(x, y, width, height, seed)));
            }
        }
        return ip;
    }

    public static ColorProcessor rgb(int width, int height, long seed) {
        ColorProcessor ip = new ColorProcessor(width, height);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double v = pattern(x, y, width, height, seed);
                int r = (int) Math.round(255 * v);
                int g = (int) Math.round(255 * v * 0.8);
                int b = (int) Math.round(255 * (1 - v) * 0.5);
                ip.set(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return ip;
    }

    /** An image of one of the four pixel types, chosen by {@code index}. */
    public static ImageProcessor anyType(int index, int width, int height, long seed) {
        switch (index % 4) {
            case 0:
                return gray8(width, height, seed);
            case 1:
                return gray16(width, height, seed);
            case 2:
                return gray32(width, height, seed);
            default:
                return rgb(width, height, seed);
        }
    }

    /** Sets system property {@code key} back to {@code old} (clearing it if null). */
    /** {@code imp} with a pixel size in µm (unit "um"), for tests of calibrated outputs. */
    public static ImagePlus calibrated(ImagePlus imp, double pixelWidth, double pixelHeight) {
        Calibration cal = imp.getCalibration();
        cal.pixelWidth = pixelWidth;
        cal.pixelHeight = pixelHeight;
        cal.setUnit("um");
        return imp;
    }

    public static void restoreProperty(String key, String old) {
        if (old == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, old);
        }
    }
}
