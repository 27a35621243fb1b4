package org.visualccc;

import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import org.junit.Test;

import java.util.Arrays;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.visualccc.AnalysisTestSupport.assertRejected;

/** {@link Texture} and {@link TextureResult} against the real native library. */
public class TextureTest {
    @Test
    public void mapsHaveTheImageSizeAndFeatureNames() {
        for (int type = 0; type < 4; type++) {
            ImageProcessor ip = TestSupport.anyType(type, 37, 23, type);
            TextureResult r = Texture.analyse(ip, new Texture.Params().features(Texture.FEATURES), true, true);
            assertArrayEquals(Texture.FEATURES, r.names());
            assertEquals(9, r.size());
            assertEquals(37, r.map(0).getWidth());
            assertEquals(23, r.map(8).getHeight());
            assertEquals(9, r.values().length);
        }
    }

    @Test
    public void aConstantImageHasNoContrastAndFullEnergy() {
        ByteProcessor ip = new ByteProcessor(20, 20);
        ip.set(128);
        TextureResult r = Texture.values(ip, new Texture.Params().features("contrast", "energy", "homogeneity"));
        assertEquals(0, r.value("contrast"), 1e-12);
        assertEquals(1, r.value("energy"), 1e-12);
        assertEquals(1, r.value("homogeneity"), 1e-12);
        assertFalse(r.hasMaps());
        FloatProcessor contrast = Texture.maps(ip, new Texture.Params().features("contrast")).map(0);
        // The window is zero-padded, so only the interior is free of contrast.
        assertEquals(0, contrast.getf(10, 10), 0);
        assertTrue(contrast.getf(0, 0) > 0);
    }

    @Test
    public void stripesHaveContrastAcrossButNotAlong() {
        ByteProcessor ip = new ByteProcessor(32, 32);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                ip.set(x, y, x % 2 == 0 ? 0 : 255);
            }
        }
        Texture.Params params = new Texture.Params().levels(2).angles(0, 90).averageAngles(false)
                .features("contrast");
        TextureResult r = Texture.values(ip, params);
        assertArrayEquals(new String[]{"contrast d=1 0deg", "contrast d=1 90deg"}, r.names());
        assertEquals(1, r.value("contrast d=1 0deg"), 1e-12);
        assertEquals(0, r.value("contrast d=1 90deg"), 1e-12);
    }

    @Test
    public void severalDistancesAreNamedWithTheirDistance() {
        TextureResult r = Texture.analyse(TestSupport.gray8(30, 30, 1),
                new Texture.Params().distances(1, 2).features("ASM", "entropy"), true, true);
        assertEquals(Arrays.asList("ASM d=1 mean", "ASM d=2 mean", "entropy d=1 mean", "entropy d=2 mean"),
                Arrays.asList(r.names()));
        assertEquals(4, r.values().length);
    }

    @Test
    public void referenceModeGivesOneContrastMapOfTheOtsuMask() {
        ByteProcessor ip = AnalysisTestSupport.halves(40, 20, 30, 220, 0, 1);
        TextureResult r = Texture.analyse(ip, Texture.Params.reference(), true, true);
        assertArrayEquals(new String[]{"contrast"}, r.names());
        FloatProcessor map = r.map(0);
        assertEquals(0, map.getf(5, 10), 0);
        assertTrue("the edge between the halves has contrast", map.getf(20, 10) > 0);
        assertTrue(r.values()[0] > 0);
    }

    @Test
    public void badSettingsAreRejectedWithTheCoresMessage() {
        ByteProcessor ip = TestSupport.gray8(32, 32, 1);
        assertRejected("odd number", () -> Texture.maps(ip, new Texture.Params().window(6)));
        assertRejected("odd number", () -> Texture.values(ip, new Texture.Params().window(1)));
        assertRejected("between 2 and 256 (got 1)", () -> Texture.maps(ip, new Texture.Params().levels(1)));
        assertRejected("between 2 and 256 (got 300)", () -> Texture.maps(ip, new Texture.Params().levels(300)));
        assertRejected("angle 30", () -> Texture.maps(ip, new Texture.Params().angles(30)));
        assertRejected("unknown texture feature \"roughness\"",
                () -> Texture.maps(ip, new Texture.Params().features("roughness")));
        assertRejected("at least one texture feature", () -> Texture.maps(ip, new Texture.Params().features()));
        assertRejected("distances must be at least 1", () -> Texture.maps(ip, new Texture.Params().distances(0)));
        assertRejected("distance must not be negative", () -> Texture.maps(ip, new Texture.Params().distances(-1)));
        assertRejected("smaller than the window", () -> Texture.maps(ip, new Texture.Params().distances(7)));
        assertRejected("NaN", () -> Texture.maps(AnalysisTestSupport.withNaN(ip), new Texture.Params()));
        assertRejected("image is empty", () -> Texture.maps(AnalysisTestSupport.empty(), new Texture.Params()));
        assertRejected("direct quantisation", () -> Texture.maps(ip,
                new Texture.Params().levels(8).quantization(Texture.Quantization.DIRECT)));
        assertRejected("maps, whole-image values or both", () -> Texture.analyse(ip, new Texture.Params(), false,
                false));
    }

    @Test
    public void inconsistentResultsAreRefused() {
        assertRejected("no result names", () -> new TextureResult(new String[0], null, null, 1, 1));
        assertRejected("1 maps for 2 names",
                () -> new TextureResult(new String[]{"a", "b"}, new float[1][4], null, 2, 2));
        assertRejected("not 2x2", () -> new TextureResult(new String[]{"a"}, new float[][]{new float[3]}, null,
                2, 2));
    }
}
