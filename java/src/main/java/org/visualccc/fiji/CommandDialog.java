package org.visualccc.fiji;

import ij.Macro;
import ij.Prefs;
import ij.gui.GenericDialog;

import java.awt.Choice;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A {@link GenericDialog} with the Visual-CCC conventions: field labels use underscores,
 * so macro keys are the labels in lower case ({@code Clip_limit} records as
 * {@code clip_limit=}); defaults come from {@link Prefs} only when a person opens the
 * dialog, and are saved back only then, so macros always start from the documented
 * defaults; numbers that are not numbers, and fractional values where a whole number is
 * needed, throw {@link IllegalArgumentException} naming the field.
 *
 * <p>Add fields, {@link #show()}, then read them in the same order with the
 * {@code next...} methods.
 */
final class CommandDialog {
    private final GenericDialog dialog;
    private final String prefsPrefix;
    private final boolean macro;
    private final Deque<String> numbers = new ArrayDeque<String>();
    private final Deque<String> strings = new ArrayDeque<String>();
    private final Deque<String> checkboxes = new ArrayDeque<String>();
    private final Deque<String> choices = new ArrayDeque<String>();
    private final Map<String, String[]> choiceItems = new HashMap<String, String[]>();
    private final Map<String, String> choiceDefaults = new HashMap<String, String>();

    /**
     * @param prefsPrefix prefix of this command's preference keys, e.g.
     *                    {@code "visualccc.threshold."}
     */
    CommandDialog(String title, String prefsPrefix) {
        this.dialog = new GenericDialog(title);
        this.prefsPrefix = prefsPrefix;
        this.macro = Macro.getOptions() != null;
    }

    private String key(String label) {
        return prefsPrefix + label.toLowerCase(Locale.ROOT);
    }

    CommandDialog number(String label, double defaultValue, int digits, String units) {
        double value = macro ? defaultValue : Prefs.get(key(label), defaultValue);
        dialog.addNumericField(label, value, digits, 8, units);
        numbers.add(label);
        return this;
    }

    CommandDialog string(String label, String defaultValue, int columns) {
        dialog.addStringField(label, macro ? defaultValue : Prefs.get(key(label), defaultValue), columns);
        strings.add(label);
        return this;
    }

    /** A file path with a Browse button; read with {@link #nextString()}. */
    CommandDialog file(String label, String defaultValue) {
        dialog.addFileField(label, macro ? defaultValue : Prefs.get(key(label), defaultValue), 40);
        strings.add(label);
        return this;
    }

    /** A folder path with a Browse button; read with {@link #nextString()}. */
    CommandDialog directory(String label, String defaultValue) {
        dialog.addDirectoryField(label, macro ? defaultValue : Prefs.get(key(label), defaultValue), 30);
        strings.add(label);
        return this;
    }

    CommandDialog checkbox(String label, boolean defaultValue) {
        dialog.addCheckbox(label, macro ? defaultValue : Prefs.get(key(label), defaultValue));
        checkboxes.add(label);
        return this;
    }

    /** Checkboxes in a grid; each is read with {@link #nextBoolean()}, row by row. */
    CommandDialog checkboxGroup(int rows, int columns, String[] labels, boolean[] defaultValues) {
        boolean[] values = new boolean[labels.length];
        for (int i = 0; i < labels.length; i++) {
            values[i] = macro ? defaultValues[i] : Prefs.get(key(labels[i]), defaultValues[i]);
            checkboxes.add(labels[i]);
        }
        dialog.addCheckboxGroup(rows, columns, labels, values);
        return this;
    }

    /** A choice; a remembered value no longer among {@code items} falls back to the default. */
    CommandDialog choice(String label, String[] items, String defaultValue) {
        String value = macro ? defaultValue : Prefs.get(key(label), defaultValue);
        if (!Arrays.asList(items).contains(value)) {
            value = defaultValue;
        }
        dialog.addChoice(label, items, value);
        choices.add(label);
        choiceItems.put(label, items.clone());
        choiceDefaults.put(label, defaultValue);
        return this;
    }

    /**
     * The value of the last choice added (after {@link #show()}) before it is read in turn
     * with {@link #nextChoice()}, which still has to be called to record and remember it.
     */
    String peekLastChoice() {
        String label = choices.peekLast();
        if (macro) {
            return Macro.getValue(Macro.getOptions(), label.toLowerCase(Locale.ROOT), choiceDefaults.get(label));
        }
        return ((Choice) dialog.getChoices().lastElement()).getSelectedItem();
    }

    CommandDialog message(String text) {
        dialog.addMessage(text);
        return this;
    }

    /** Shows the dialog (or reads the macro's options); false if cancelled. */
    boolean show() {
        dialog.showDialog();
        return !dialog.wasCanceled();
    }

    double nextNumber() {
        String label = numbers.remove();
        double value = dialog.getNextNumber();
        if (Double.isNaN(value)) {
            throw new IllegalArgumentException(label.replace('_', ' ') + " must be a number.");
        }
        return remember(label, value);
    }

    int nextInt() {
        String label = numbers.peek();
        double value = nextNumber();
        if (value != Math.rint(value) || Math.abs(value) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(label.replace('_', ' ') + " must be a whole number, not " + value
                    + ".");
        }
        return (int) value;
    }

    String nextString() {
        return remember(strings.remove(), dialog.getNextString().trim());
    }

    boolean nextBoolean() {
        return remember(checkboxes.remove(), dialog.getNextBoolean());
    }

    String nextChoice() {
        return remember(choices.remove(), dialog.getNextChoice());
    }

    /**
     * Stores {@code value} as the next dialog's default for {@code label} (as ImageJ's
     * {@code Prefs.set} overloads write it), except when a macro supplied it.
     */
    private <T> T remember(String label, T value) {
        if (!macro) {
            Prefs.set(key(label), String.valueOf(value));
        }
        return value;
    }

    /** The index of the chosen item in the choice's items. */
    int nextChoiceIndex() {
        String[] items = choiceItems.get(choices.peek());
        return Arrays.asList(items).indexOf(nextChoice());
    }
}
