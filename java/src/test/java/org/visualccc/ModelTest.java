package org.visualccc;

import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/**
 * The Java API against the real native library and the fixture models. The library is
 * loaded through NativeLoader's bundled-resource path (build/resources/main).
 */
public class ModelTest {
    private static Model model;

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    @BeforeClass
    public static void openFixture() {
        model = Model.open(TestSupport.fixtureTiny());
    }

    @AfterClass
    public static void closeFixture() {
        if (model != null) {
            model.close();
        }
    }

    // ------------------------------------------------------------------ loading

    @Test
    public void nativeLibraryComesFromTheExtractedResources() {
        assertTrue(NativeLoader.isLoaded());
        File library = NativeLoader.loadedLibraryFile();
        assertNotNull(library);
        assertEquals("libvisual_ccc.so", library.getName());
        assertTrue(library.getPath(), library.getPath().contains(BuildInfo.cacheTag()));
        assertTrue("ONNX Runtime is extracted next to it",
                new File(library.getParentFile(), "libonnxruntime.so.1.22.1").isFile());
        String[] dirs = Model.onnxRuntimeSearchDirs();
        assertEquals(library.getParentFile().getPath(), dirs[0]);
        String version = NativeLibrary.version();
        assertTrue(version, version.matches("\\d+\\.\\d+\\.\\d+.*"));
    }

    @Test
    public void fixtureMetadata() {
        assertArrayEquals(new String[]{"alloy", "dendrite", "spheroid"}, model.classNames());
        assertEquals("fixture", model.kind());
        assertTrue(model.isFixture());
        assertEquals(64, model.inputSize());
        assertTrue(model.hasFeatures());
        assertNotNull(model.description());
        assertEquals(TestSupport.fixtureTiny(), model.path());
        assertFalse(model.isClosed());
    }

    // ------------------------------------------------------------------ classification

    private static void checkResult(Classification c, int width, int height, boolean cam) {
        assertArrayEquals(new String[]{"alloy", "dendrite", "spheroid"}, c.classNames());
        double sum = 0;
        int best = 0;
        double[] p = c.probabilities();
        for (int i = 0; i < p.length; i++) {
            assertTrue("probability " + p[i], p[i] >= 0 && p[i] <= 1);
            sum += p[i];
            if (p[i] > p[best]) {
                best = i;
            }
        }
        assertEquals("probabilities sum to 1: " + Arrays.toString(p), 1.0, sum, 1e-5);
        assertEquals(p[best], p[c.predictedIndex()], 0);

        int side = (int) Math.round(Math.min(width, height) / 1.2);
        assertEquals("region width " + c, side, c.regionWidth(), 1);
        assertEquals("region height " + c, side, c.regionHeight(), 1);
        assertEquals("centred region x " + c, (width - side) / 2.0, c.regionX(), 1.0);
        assertEquals("centred region y " + c, (height - side) / 2.0, c.regionY(), 1.0);
        assertTrue(c.regionX() >= 0 && c.regionY() >= 0);
        assertTrue(c.regionX() + c.regionWidth() <= width && c.regionY() + c.regionHeight() <= height);

        if (!cam) {
            assertFalse(c.hasCam());
            assertNull(c.cam());
            assertEquals(-1, c.camClass());
            assertEquals(0, c.camWidth());
            assertEquals(0, c.camHeight());
            return;
        }
        assertTrue(c.hasCam());
        assertEquals("CAM width == region width", c.regionWidth(), c.camWidth());
        assertEquals("CAM height == region height", c.regionHeight(), c.camHeight());
        float[] map = c.cam();
        assertEquals(c.camWidth() * c.camHeight(), map.length);
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float v : map) {
            assertTrue("CAM value " + v + " in [0,1]", v >= 0f && v <= 1f);
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue("CAM is not constant for a structured image: " + min + ".." + max, max > min);
    }

    private static void classifyAndCheck(ImageProcessor ip) {
        Object before = copyOfPixels(ip);
        Classification c = model.classify(ip, Model.CAM_PREDICTED);
        checkResult(c, ip.getWidth(), ip.getHeight(), true);
        assertEquals("CAM of the predicted class", c.predictedIndex(), c.camClass());
        assertPixelsEqual(before, ip.getPixels());

        Classification plain = model.classify(ip, Model.CAM_NONE);
        checkResult(plain, ip.getWidth(), ip.getHeight(), false);
        assertArrayEquals("same probabilities with and without CAM", c.probabilities(), plain.probabilities(), 1e-6);

        Classification other = model.classify(ip, (c.predictedIndex() + 1) % 3);
        assertEquals((c.predictedIndex() + 1) % 3, other.camClass());
        checkResult(other, ip.getWidth(), ip.getHeight(), true);
        assertPixelsEqual(before, ip.getPixels());
    }

    private static Object copyOfPixels(ImageProcessor ip) {
        Object p = ip.getPixels();
        if (p instanceof byte[]) {
            return ((byte[]) p).clone();
        } else if (p instanceof short[]) {
            return ((short[]) p).clone();
        } else if (p instanceof float[]) {
            return ((float[]) p).clone();
        }
        return ((int[]) p).clone();
    }

    private static void assertPixelsEqual(Object expected, Object actual) {
        String message = "the input pixels are not modified";
        if (expected instanceof byte[]) {
            assertArrayEquals(message, (byte[]) expected, (byte[]) actual);
        } else if (expected instanceof short[]) {
            assertArrayEquals(message, (short[]) expected, (short[]) actual);
        } else if (expected instanceof float[]) {
            assertArrayEquals(message, (float[]) expected, (float[]) actual, 0f);
        } else {
            assertArrayEquals(message, (int[]) expected, (int[]) actual);
        }
    }

    @Test
    public void classifiesEveryImageJPixelType() {
        ImageProcessor[] slices = {TestSupport.gray8(300, 200, 1), TestSupport.gray16(300, 200, 2),
            TestSupport.gray32(300, 200, 3), TestSupport.rgb(300, 200, 4)};
        for (ImageProcessor ip : slices) {
            classifyAndCheck(ip);
        }
    }

    @Test
    public void rgbAlphaBitsAreIgnored() {
        ImageProcessor plain = TestSupport.rgb(200, 150, 8);
        ImageProcessor opaque = plain.duplicate();
        int[] pixels = (int[]) opaque.getPixels();
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] |= 0xff000000;
        }
        Classification a = model.classify(plain, Model.CAM_PREDICTED);
        Classification b = model.classify(opaque, Model.CAM_PREDICTED);
        assertArrayEquals(a.probabilities(), b.probabilities(), 0);
        assertArrayEquals(a.cam(), b.cam(), 0f);
    }

    @Test
    public void classifiesPortraitAndSquareImages() {
        classifyAndCheck(TestSupport.gray8(120, 333, 5));
        classifyAndCheck(TestSupport.gray8(64, 64, 6));
        classifyAndCheck(TestSupport.gray8(16, 40, 7));
    }

    @Test
    public void defaultClassifyIncludesTheCamOfThePredictedClass() {
        Classification c = model.classify(TestSupport.gray8(300, 200, 1));
        assertTrue(c.hasCam());
        assertEquals(c.predictedIndex(), c.camClass());
    }

    @Test
    public void classificationIsDeterministic() {
        ImageProcessor ip = TestSupport.gray32(211, 157, 9);
        Classification a = model.classify(ip, Model.CAM_PREDICTED);
        Classification b = model.classify(ip, Model.CAM_PREDICTED);
        assertArrayEquals(a.probabilities(), b.probabilities(), 0);
        assertArrayEquals(a.cam(), b.cam(), 0f);
    }

    @Test
    public void classifiesAPngFileLikeTheSamePixels() throws IOException {
        ByteProcessor ip = TestSupport.gray8(300, 200, 11);
        File png = temp.newFile("sample.png");
        assertTrue(ImageIO.write(ip.getBufferedImage(), "png", png));
        Classification fromFile = model.classifyFile(png.getPath(), Model.CAM_PREDICTED);
        checkResult(fromFile, 300, 200, true);
        Classification fromPixels = model.classify(ip, Model.CAM_PREDICTED);
        assertArrayEquals(fromPixels.probabilities(), fromFile.probabilities(), 1e-6);
        assertEquals(fromPixels.predictedIndex(), fromFile.predictedIndex());
    }

    @Test
    public void camClassOutOfRangeIsAnArgumentError() {
        try {
            model.classify(TestSupport.gray8(100, 100, 1), 3);
            fail("expected IllegalArgumentException");
        } catch (IllegalArgumentException e) {
            assertContains(e, "out of range");
        }
        stillWorks();
    }

    // ------------------------------------------------------------------ errors

    private static void assertContains(Throwable e, String text) {
        String message = String.valueOf(e.getMessage());
        assertTrue("message should mention '" + text + "': " + message,
                message.toLowerCase().contains(text.toLowerCase()));
    }

    /** The JVM and the model still work after an error. */
    private static void stillWorks() {
        checkResult(model.classify(TestSupport.gray8(300, 200, 1), Model.CAM_PREDICTED), 300, 200, true);
    }

    private static VisualCccException expectVisualCcc(VisualCccException.Kind kind, Runnable action) {
        try {
            action.run();
        } catch (VisualCccException e) {
            assertEquals("kind of: " + e.getMessage(), kind, e.kind());
            return e;
        }
        throw new AssertionError("expected a VisualCccException of kind " + kind);
    }

    /**
     * Classifying the file at {@code path} fails with a {@code kind} error whose message
     * mentions each of {@code texts}, and the model still works afterwards.
     */
    private static void assertClassifyFileFails(VisualCccException.Kind kind, String path, String... texts) {
        VisualCccException e = expectVisualCcc(kind, () -> model.classifyFile(path, Model.CAM_PREDICTED));
        for (String text : texts) {
            assertContains(e, text);
        }
        stillWorks();
    }

    @Test
    public void zeroByteFileIsADecodeError() throws IOException {
        final File empty = temp.newFile("empty.png");
        assertClassifyFileFails(VisualCccException.Kind.DECODE, empty.getPath(), "empty", empty.getName());
    }

    @Test
    public void truncatedPngIsADecodeError() throws IOException {
        final File png = temp.newFile("truncated.png");
        BufferedImage image = TestSupport.gray8(200, 150, 3).getBufferedImage();
        assertTrue(ImageIO.write(image, "png", png));
        try (RandomAccessFile file = new RandomAccessFile(png, "rw")) {
            file.setLength(file.length() / 2);
        }
        assertClassifyFileFails(VisualCccException.Kind.DECODE, png.getPath(), "truncated", png.getName());
    }

    @Test
    public void textFileNamedTifIsADecodeError() throws IOException {
        final File tif = temp.newFile("notes.tif");
        Files.write(tif.toPath(), "These are my lab notes, not an image.\n".getBytes(StandardCharsets.UTF_8));
        assertClassifyFileFails(VisualCccException.Kind.DECODE, tif.getPath(), "image format", tif.getName());
    }

    @Test
    public void missingImageFileIsAnIoError() {
        final String path = temp.getRoot() + "/does-not-exist.png";
        assertClassifyFileFails(VisualCccException.Kind.IO, path, "does-not-exist.png");
    }

    @Test
    public void oneByOneImageIsTooSmall() {
        try {
            model.classify(new ByteProcessor(1, 1), Model.CAM_PREDICTED);
            fail("expected IllegalArgumentException");
        } catch (IllegalArgumentException e) {
            assertContains(e, "too small");
        }
        stillWorks();
    }

    @Test
    public void nonFinitePixelsAreRejected() {
        FloatProcessor ip = TestSupport.gray32(100, 80, 5);
        ip.setf(10, 10, Float.NaN);
        ip.setf(20, 10, Float.POSITIVE_INFINITY);
        ip.setf(30, 10, Float.NEGATIVE_INFINITY);
        try {
            model.classify(ip, Model.CAM_PREDICTED);
            fail("expected IllegalArgumentException");
        } catch (IllegalArgumentException e) {
            assertContains(e, "NaN");
        }
        stillWorks();
    }

    @Test
    public void nonOnnxFileIsAModelError() throws IOException {
        final File bogus = temp.newFile("bogus.onnx");
        Files.write(bogus.toPath(), "this is not a protobuf".getBytes(StandardCharsets.UTF_8));
        VisualCccException e = expectVisualCcc(VisualCccException.Kind.MODEL,
                () -> Model.open(bogus.getPath()).close());
        assertContains(e, "bogus.onnx");
        assertContains(e, "ONNX");
        stillWorks();
    }

    @Test
    public void missingModelFileIsNamed() {
        final String path = temp.getRoot() + "/no-such-model.onnx";
        try {
            Model.open(path).close();
            fail("expected an error");
        } catch (VisualCccException e) {
            assertContains(e, "no-such-model.onnx");
        }
        stillWorks();
    }

    @Test
    public void modelWithoutFeaturesClassifiesButHasNoCam() {
        try (Model plain = Model.open(TestSupport.fixtureNoFeatures())) {
            assertFalse(plain.hasFeatures());
            assertArrayEquals(new String[]{"alloy", "dendrite", "spheroid"}, plain.classNames());
            final ImageProcessor ip = TestSupport.gray8(300, 200, 1);
            Classification c = plain.classify(ip, Model.CAM_NONE);
            checkResult(c, 300, 200, false);
            assertArrayEquals("same weights as fixture-tiny",
                    model.classify(ip, Model.CAM_NONE).probabilities(), c.probabilities(), 1e-6);
            assertFalse("default classify skips the CAM", plain.classify(ip).hasCam());
            final Model m = plain;
            VisualCccException e = expectVisualCcc(VisualCccException.Kind.MODEL,
                    () -> m.classify(ip, Model.CAM_PREDICTED));
            assertContains(e, "features");
            checkResult(plain.classify(ip, Model.CAM_NONE), 300, 200, false);
        }
        stillWorks();
    }

    @Test
    public void panicBecomesAnInternalError() {
        try {
            NativeTesting.panic("deliberate test panic 42");
            fail("expected VisualCccException");
        } catch (VisualCccException e) {
            assertEquals(VisualCccException.Kind.INTERNAL, e.kind());
            assertContains(e, "deliberate test panic 42");
        }
        stillWorks();
    }

    @Test
    public void nullArgumentsAreArgumentErrors() {
        try {
            model.classify(null, Model.CAM_NONE);
            fail();
        } catch (IllegalArgumentException e) {
            assertContains(e, "image");
        }
        try {
            model.classifyFile(null, Model.CAM_NONE);
            fail();
        } catch (IllegalArgumentException e) {
            assertContains(e, "image");
        }
        try {
            Model.open(null);
            fail();
        } catch (IllegalArgumentException e) {
            assertContains(e, "model");
        }
    }

    // ------------------------------------------------------------------ lifecycle

    @Test
    public void useAfterCloseAndDoubleClose() {
        Model m = Model.open(TestSupport.fixtureTiny());
        assertEquals(64, m.inputSize());
        m.close();
        assertTrue(m.isClosed());
        m.close(); // no-op
        try {
            m.classify(TestSupport.gray8(100, 100, 1), Model.CAM_PREDICTED);
            fail("expected IllegalStateException");
        } catch (IllegalStateException e) {
            assertContains(e, "closed");
        }
        try {
            m.classNames();
            fail("expected IllegalStateException");
        } catch (IllegalStateException e) {
            assertContains(e, "closed");
        }
        try {
            m.classifyFile("/tmp/x.png", Model.CAM_NONE);
            fail("expected IllegalStateException");
        } catch (IllegalStateException e) {
            assertContains(e, "closed");
        }
        assertTrue(m.toString().contains("closed"));
        stillWorks();
    }

    @Test
    public void manyModelsCanBeOpenedAndClosed() {
        for (int i = 0; i < 5; i++) {
            try (Model m = Model.open(TestSupport.fixtureTiny(), 1)) {
                checkResult(m.classify(TestSupport.gray8(90, 70, i), Model.CAM_PREDICTED), 90, 70, true);
            }
        }
    }
}
