import QtQuick
import QtQuick.VirtualKeyboard
import QtQuick.VirtualKeyboard.Settings

// The on-screen keyboard (Qt Virtual Keyboard) for staff text fields on a touch-only kiosk: 拼音
// first, English second; a field with inputMethodHints: Qt.ImhDigitsOnly / ImhDialableCharactersOnly
// gets the digit layout. Loaded by Main.qml only when App.keyboard is on (kiosk/app/keyboard.py);
// shown while a text field has the focus. Its keys use the app's CJK font (kiosk.app.bootstrap.register_fonts).
InputPanel {
    id: panel
    objectName: "keyboardPanel"
    visible: panel.active

    Binding { target: VirtualKeyboardSettings; property: "activeLocales"; value: ["zh_CN", "en_US"] }
    Binding { target: VirtualKeyboardSettings; property: "locale"; value: "zh_CN" }
}
