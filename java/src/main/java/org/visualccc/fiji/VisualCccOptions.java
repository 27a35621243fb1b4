package org.visualccc.fiji;

import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import org.visualccc.NativeLog;

/**
 * Plugins › Visual-CCC › Visual-CCC Options...: how much of the native core's log
 * (model and ONNX Runtime loading, tiles, k-means fits, ...) reaches ImageJ's Log window
 * after each command. Remembered in ImageJ's preferences; the {@code visualccc.log}
 * system property overrides it.
 *
 * <p>Macro: {@code run("Visual-CCC Options...", "log_level=info");}
 * Scripting: {@link #setLogLevel(String)}.
 */
public class VisualCccOptions implements PlugIn {
    @Override
    public void run(String arg) {
        GenericDialog gd = new GenericDialog("Visual-CCC Options");
        gd.addChoice("Log_level", NativeLog.LEVELS.toArray(new String[0]), NativeLog.level());
        gd.addMessage("Core log records go to the Log window after each Visual-CCC command.\n"
                + "warn: problems only; info: models, ONNX Runtime, tiles; debug: every step.");
        gd.showDialog();
        if (gd.wasCanceled()) {
            return;
        }
        String level = gd.getNextChoice();
        CommandSupport.guarded(() -> setLogLevel(level));
    }

    /**
     * Sets and remembers the log level ({@link NativeLog#LEVELS}).
     *
     * @throws IllegalArgumentException for an unknown level
     */
    public static void setLogLevel(String level) {
        NativeLog.setLevel(level);
    }
}
