package org.visualccc;

import org.junit.Test;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.fail;

/** The result object's checks and accessors, without native code. */
public class WholeImageClassificationTest {
    private static final String[] NAMES = {"a", "b"};

    private static WholeImageClassification twoTiles(float[] cam, int mapWidth, int mapHeight) {
        return new WholeImageClassification(NAMES, 1, new double[] {0.3, 0.7}, 2, 1,
                new int[] {0, 0, 64, 64, 36, 0, 64, 64}, new int[] {1, 0},
                new float[] {0.2f, 0.8f, 0.6f, 0.4f}, cam == null ? -1 : 1, cam, mapWidth, mapHeight, 1);
    }

    @Test
    public void tilesAreReadBack() {
        WholeImageClassification r = twoTiles(null, 0, 0);
        assertEquals("b", r.predictedClass());
        assertEquals(2, r.tileCount());
        assertArrayEquals(new int[] {36, 0, 64, 64}, r.tileRegion(1));
        assertEquals(0, r.tileClass(1));
        assertArrayEquals(new double[] {0.6, 0.4}, r.tileProbabilities(1), 1e-6);
        assertFalse(r.hasCam());
        assertEquals(-1, r.camClass());
    }

    @Test
    public void inconsistentArraysAreRejected() {
        try {
            twoTiles(new float[5], 2, 2);
            fail("CAM size");
        } catch (IllegalArgumentException expected) {
            // expected
        }
        try {
            new WholeImageClassification(NAMES, 0, new double[] {1, 0}, 3, 1, new int[8], new int[2], new float[4],
                    -1, null, 0, 0, 0);
            fail("grid size");
        } catch (IllegalArgumentException expected) {
            // expected
        }
    }
}
