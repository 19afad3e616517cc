import QtQuick
import QtQuick.VirtualKeyboard
import QtQuick.VirtualKeyboard.Settings

// The on-screen keyboard (Qt Virtual Keyboard) for staff text fields on a touch-only kiosk: 拼音
// first, English second; a field with inputMethodHints: Qt.ImhDigitsOnly / ImhDialableCharactersOnly
// gets the digit layout. Loaded by Main.qml only when App.keyboard is on (kiosk/app/keyboard.py);
// shown while a text field has the focus. Its keys use the app's CJK font (kiosk.app.bootstrap.register_fonts).
//
// 关怀大字版 (Theme.elder): larger key labels and candidates, and taller key rows as far as the window
// leaves room above the panel for the header and a field being typed with its label (the style draws
// everything in proportion to its design size: a narrower design width scales the labels, margins and
// candidate bar up; a taller design height makes the rows taller).
InputPanel {
    id: panel
    objectName: "keyboardPanel"
    visible: panel.active

    // The default style's design size (Qt Virtual Keyboard's Styles/Builtin/default: 2560 x 800, a
    // candidate bar of 85): the plain keyboard is left exactly as the style draws it.
    readonly property real designWidth: 2560
    readonly property real designHeight: 800
    readonly property real designCandidates: 85
    readonly property real elderLabels: 1.5   // key labels and candidates, 关怀大字版
    readonly property real elderRows: 1.6     // key rows at most, 关怀大字版
    // What the window keeps above the panel: the header (Main.qml), the page's margins, and a field's row.
    readonly property real room: Math.round(Theme.touch + Theme.gap) + 2 * Theme.margin + 2 * Theme.touch
    readonly property real labels: Theme.elder ? panel.elderLabels : 1
    readonly property real rows: {
        if (!Theme.elder || panel.width <= 0)
            return 1
        const perPx = panel.designWidth / panel.width  // design units per pixel of the panel's width
        const fit = ((Window.height - panel.room) * perPx - panel.designCandidates * panel.labels) / panel.designHeight
        return Math.max(1, Math.min(panel.elderRows, fit))
    }

    Binding { target: VirtualKeyboardSettings; property: "activeLocales"; value: ["zh_CN", "en_US"] }
    Binding { target: VirtualKeyboardSettings; property: "locale"; value: "zh_CN" }
    Binding {
        when: Theme.elder && panel.keyboard.style !== null
        target: panel.keyboard.style
        property: "keyboardDesignWidth"
        value: panel.designWidth / panel.labels
    }
    Binding {
        when: Theme.elder && panel.keyboard.style !== null
        target: panel.keyboard.style
        property: "keyboardDesignHeight"
        value: panel.designHeight * panel.rows / panel.labels
    }
}
