package org.visualccc;

import org.junit.After;
import org.junit.Test;

import java.util.Arrays;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/** The core's log records reach Java at the chosen level. */
public class NativeLogTest {
    @After
    public void restoreDefault() {
        NativeLog.setLevel(NativeLog.DEFAULT_LEVEL);
        NativeLog.drain();
    }

    @Test
    public void infoRecordsAppearAtInfoAndNotAtWarn() {
        NativeLoader.load();
        NativeLog.setLevel("info");
        NativeLog.drain();
        Model.open(TestSupport.fixtureTiny()).close();
        String info = Arrays.toString(NativeLog.drain());
        assertTrue(info, info.contains("info: opened model 'fixture-tiny'"));

        NativeLog.setLevel("warn");
        Model.open(TestSupport.fixtureTiny()).close();
        String warn = Arrays.toString(NativeLog.drain());
        assertFalse(warn, warn.contains("info:"));
    }

    @Test
    public void levelNamesAreCheckedAndCaseInsensitive() {
        NativeLog.setLevel("DEBUG");
        assertEquals("debug", NativeLog.level());
        try {
            NativeLog.setLevel("loud");
            fail("an unknown level must be refused");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("loud"));
        }
    }
}
