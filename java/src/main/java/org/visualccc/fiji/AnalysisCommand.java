package org.visualccc.fiji;

import ij.ImagePlus;
import ij.plugin.PlugIn;

import java.awt.Rectangle;

/**
 * The flow the analysis commands share: take the active image (or say there is none),
 * show the command's dialog (or read the macro's options), then do the work, reporting
 * any error with {@link CommandSupport#fail} so that macros stop cleanly. With an area
 * selection, the work is done on the part of every slice inside the selection's bounding
 * rectangle ({@link CommandSupport#withinSelection}); outputs are then that size, and with
 * a non-rectangular selection area results count only the pixels inside it
 * ({@link SelectionMask}). A multi-channel image gets a {@code channels} choice: the
 * {@code current} channel (all its slices and frames; the default) or {@code all}
 * channels; every table row says its Channel, Slice and Frame.
 */
abstract class AnalysisCommand implements PlugIn {
    /** The analysed rectangle of the image when it had a selection, else null. */
    Rectangle selection;

    @Override
    public final void run(String arg) {
        ImagePlus imp = CommandSupport.currentImage();
        if (imp == null) {
            return;
        }
        CommandDialog dialog = createDialog(imp);
        boolean channels = imp.getNChannels() > 1;
        if (channels) {
            dialog.choice("Channels", CommandSupport.CHANNEL_CHOICES, CommandSupport.CHANNEL_CHOICES[0]);
        }
        if (dialog.show()) {
            CommandSupport.guarded(() -> {
                ImagePlus source = imp;
                if (channels && dialog.peekLastChoice().equals(CommandSupport.CHANNEL_CHOICES[0])) {
                    source = CommandSupport.channel(imp, imp.getChannel());
                }
                ImagePlus target = cropsToSelection() ? CommandSupport.withinSelection(source) : source;
                selection = target == source ? null : CommandSupport.selectionBounds(imp);
                analyse(target, dialog);
                if (channels) {
                    dialog.nextChoice(); // records and remembers the channels choice
                }
            });
        }
    }

    /**
     * Whether {@link #analyse} gets the part inside the selection's bounding rectangle
     * (the default) or the whole image, for commands that handle the selection themselves
     * (e.g. to draw on the user's image).
     */
    boolean cropsToSelection() {
        return true;
    }

    /** The dialog for {@code imp}. */
    abstract CommandDialog createDialog(ImagePlus imp);

    /** Reads the dialog's fields (in the order they were added) and does the work. */
    abstract void analyse(ImagePlus imp, CommandDialog dialog);
}
