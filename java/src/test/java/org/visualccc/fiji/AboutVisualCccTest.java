package org.visualccc.fiji;

import org.junit.Test;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

/** The About text and the wrapping that keeps long paths inside its window. */
public class AboutVisualCccTest {
    @Test
    public void longLinesAreBrokenAfterASlashAndIndented() {
        String path = "Native library file: /tmp/tmp.ttYZi7Vgih/cache/natives/0.1.0-70165b5a8ab5/linux-x86_64/"
                + "libvisual_ccc.so";
        String wrapped = AboutVisualCcc.wrapLongLines("short\n" + path + "\nend", 40);
        for (String line : wrapped.split("\n")) {
            assertTrue(line, line.length() <= 40);
        }
        assertTrue(wrapped, wrapped.startsWith("short\nNative library file: /tmp/\n    tmp.ttYZi7Vgih/"));
        assertTrue(wrapped, wrapped.endsWith("\nend"));
        assertEquals(path, wrapped.split("\n", 2)[1].replace("\n    ", "").replace("\nend", ""));
    }

    @Test
    public void theAboutTextFitsTheWindowOnceWrapped() {
        for (String line : AboutVisualCcc.wrapLongLines(AboutVisualCcc.aboutText(), AboutVisualCcc.WINDOW_COLUMNS)
                .split("\n")) {
            assertTrue(line, line.length() <= AboutVisualCcc.WINDOW_COLUMNS);
        }
    }
}
