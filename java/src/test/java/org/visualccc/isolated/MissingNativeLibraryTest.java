package org.visualccc.isolated;

import org.junit.Test;
import org.visualccc.Model;
import org.visualccc.NativeLoader;
import org.visualccc.TestSupport;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/**
 * Runs in its own JVM (gradle task testMissingNativeLibrary) with
 * {@code -Dvisualccc.native.path=/nonexistent/libvisual_ccc.so}: the explicit setting is
 * not skipped and the error says what was tried.
 */
public class MissingNativeLibraryTest {
    private static final String MISSING = "/nonexistent/libvisual_ccc.so";

    @Test
    public void explicitMissingLibraryIsAClearLinkError() {
        assertEquals(MISSING, System.getProperty(NativeLoader.NATIVE_PATH_PROPERTY));
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                NativeLoader.load();
                fail("expected UnsatisfiedLinkError");
            } catch (UnsatisfiedLinkError e) {
                String message = e.getMessage();
                assertTrue(message, message.contains(MISSING));
                assertTrue(message, message.contains(NativeLoader.NATIVE_PATH_PROPERTY));
                assertTrue(message, message.contains("does not exist"));
            }
        }
        assertFalse(NativeLoader.isLoaded());
        try {
            Model.open(TestSupport.fixtureTiny());
            fail("expected UnsatisfiedLinkError");
        } catch (UnsatisfiedLinkError e) {
            assertTrue(e.getMessage(), e.getMessage().contains(MISSING));
        }
    }
}
