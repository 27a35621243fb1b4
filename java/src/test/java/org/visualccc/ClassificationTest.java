package org.visualccc;

import org.junit.Test;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/** The value object on its own (no native code). */
public class ClassificationTest {
    private static final String[] NAMES = {"alloy", "dendrite", "spheroid"};

    private static Classification withCam() {
        float[] cam = {0f, 0.5f, 1f, 0.25f, 0.75f, 0.1f};
        return new Classification(NAMES.clone(), 1, new double[]{0.2, 0.7, 0.1}, 1, cam, 3, 2, 10, 20, 3, 2);
    }

    @Test
    public void gettersReturnWhatWasGiven() {
        Classification c = withCam();
        assertArrayEquals(NAMES, c.classNames());
        assertEquals(3, c.classCount());
        assertEquals(1, c.predictedIndex());
        assertEquals("dendrite", c.predictedClass());
        assertEquals(0.7, c.probability("dendrite"), 0);
        assertEquals(0.1, c.probability(2), 0);
        assertTrue(c.hasCam());
        assertEquals(1, c.camClass());
        assertEquals(3, c.camWidth());
        assertEquals(2, c.camHeight());
        assertEquals(0.75f, c.camValue(1, 1), 0f);
        assertEquals(10, c.regionX());
        assertEquals(20, c.regionY());
        assertEquals(3, c.regionWidth());
        assertEquals(2, c.regionHeight());
        String text = c.toString();
        assertTrue(text, text.contains("dendrite") && text.contains("0.7000") && text.contains("CAM"));
    }

    @Test
    public void arraysAreCopies() {
        String[] names = NAMES.clone();
        double[] p = {0.2, 0.7, 0.1};
        float[] cam = {0f, 0.5f, 1f, 0.25f, 0.75f, 0.1f};
        Classification c = new Classification(names, 1, p, 1, cam, 3, 2, 0, 0, 3, 2);
        names[0] = "changed";
        p[0] = 99;
        cam[0] = 99;
        assertEquals("alloy", c.classNames()[0]);
        assertEquals(0.2, c.probabilities()[0], 0);
        assertEquals(0f, c.cam()[0], 0f);
        c.probabilities()[0] = 42;
        c.cam()[0] = 42;
        c.classNames()[0] = "x";
        assertEquals(0.2, c.probabilities()[0], 0);
        assertEquals(0f, c.cam()[0], 0f);
        assertEquals("alloy", c.classNames()[0]);
    }

    @Test
    public void withoutCam() {
        Classification c = new Classification(NAMES, 0, new double[]{0.5, 0.3, 0.2}, -1, null, 0, 0, 5, 6, 7, 8);
        assertFalse(c.hasCam());
        assertNull(c.cam());
        assertEquals(-1, c.camClass());
        assertEquals(0, c.camWidth());
        assertEquals(0, c.camHeight());
        assertEquals(7, c.regionWidth());
        assertTrue(c.toString().contains("no CAM"));
    }

    @Test
    public void unknownClassNameIsExplained() {
        try {
            withCam().probability("cat");
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("cat") && e.getMessage().contains("spheroid"));
        }
    }

    @Test(expected = IllegalArgumentException.class)
    public void mismatchedLengthsAreRejected() {
        new Classification(NAMES, 0, new double[]{1.0}, -1, null, 0, 0, 0, 0, 1, 1);
    }

    @Test(expected = IllegalArgumentException.class)
    public void wrongCamSizeIsRejected() {
        new Classification(NAMES, 0, new double[]{1, 0, 0}, 0, new float[5], 3, 2, 0, 0, 3, 2);
    }

    @Test(expected = IllegalArgumentException.class)
    public void predictedIndexOutOfRangeIsRejected() {
        new Classification(NAMES, 3, new double[]{1, 0, 0}, -1, null, 0, 0, 0, 0, 3, 2);
    }

    @Test
    public void constructorHasTheSignatureNativeCodeUses() throws Exception {
        // ([Ljava/lang/String;I[DI[FIIIIIIDI)V
        Classification.class.getConstructor(String[].class, int.class, double[].class, int.class, float[].class,
                int.class, int.class, int.class, int.class, int.class, int.class, double.class, int.class);
        // ([Ljava/lang/String;I[DII[I[I[FI[FIIIDI)V
        WholeImageClassification.class.getConstructor(String[].class, int.class, double[].class, int.class,
                int.class, int[].class, int[].class, float[].class, int.class, float[].class, int.class, int.class,
                int.class, double.class, int.class);
        // (Ljava/lang/String;Ljava/lang/String;)V
        VisualCccException.class.getConstructor(String.class, String.class);
    }

    @Test
    public void unfamiliarSignalIsCarried() {
        Classification none = withCam();
        assertFalse(none.hasUnfamiliarThreshold());
        assertFalse(none.isUnfamiliar());
        assertTrue(Double.isNaN(none.unfamiliarity()));
        Classification flagged = new Classification(NAMES, 0, new double[]{0.61, 0.2, 0.19}, -1, null, 0, 0, 0, 0,
                3, 2, -1.25, 1);
        assertTrue(flagged.hasUnfamiliarThreshold());
        assertTrue(flagged.isUnfamiliar());
        assertEquals(-1.25, flagged.unfamiliarity(), 0);
        try {
            new Classification(NAMES, 0, new double[]{1, 0, 0}, -1, null, 0, 0, 0, 0, 3, 2, 0, 2);
            fail("flag 2 accepted");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage().contains("unfamiliar"));
        }
    }
}
