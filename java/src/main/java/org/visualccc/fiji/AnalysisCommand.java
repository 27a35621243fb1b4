package org.visualccc.fiji;

import ij.ImagePlus;
import ij.plugin.PlugIn;

/**
 * The flow the analysis commands share: take the active image (or say there is none),
 * show the command's dialog (or read the macro's options), then do the work, reporting
 * any error with {@link CommandSupport#fail} so that macros stop cleanly.
 */
abstract class AnalysisCommand implements PlugIn {
    @Override
    public final void run(String arg) {
        ImagePlus imp = CommandSupport.currentImage();
        if (imp == null) {
            return;
        }
        CommandDialog dialog = createDialog(imp);
        if (dialog.show()) {
            CommandSupport.guarded(() -> analyse(imp, dialog));
        }
    }

    /** The dialog for {@code imp}. */
    abstract CommandDialog createDialog(ImagePlus imp);

    /** Reads the dialog's fields (in the order they were added) and does the work. */
    abstract void analyse(ImagePlus imp, CommandDialog dialog);
}
