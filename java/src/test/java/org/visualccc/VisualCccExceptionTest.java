package org.visualccc;

import org.junit.Test;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

public class VisualCccExceptionTest {
    @Test
    public void kindIsParsedFromTheNativeName() {
        for (VisualCccException.Kind kind : VisualCccException.Kind.values()) {
            VisualCccException e = new VisualCccException(kind.name(), "message " + kind);
            assertEquals(kind, e.kind());
            assertEquals("message " + kind, e.getMessage());
        }
        assertEquals(VisualCccException.Kind.MODEL, new VisualCccException("model", "m").kind());
    }

    @Test
    public void unknownOrMissingKindIsInternal() {
        assertEquals(VisualCccException.Kind.INTERNAL, new VisualCccException("BOGUS", "m").kind());
        assertEquals(VisualCccException.Kind.INTERNAL, new VisualCccException((String) null, "m").kind());
    }

    @Test
    public void isARuntimeException() {
        assertTrue(RuntimeException.class.isAssignableFrom(VisualCccException.class));
    }
}
