pragma ComponentBehavior: Bound
import QtQuick

// 工作人员登录: choose the operator, then the PIN on the pad or a keyboard (rules: kiosk.operators).
Item {
    id: screen
    objectName: "staffLoginScreen"
    focus: true
    readonly property bool wide: !Theme.portrait
    Keys.onPressed: (event) => {
        if (event.key >= Qt.Key_0 && event.key <= Qt.Key_9) { Staff.pinPress(event.text); event.accepted = true }
        else if (event.key === Qt.Key_Backspace) { Staff.pinErase(); event.accepted = true }
        else if (event.key === Qt.Key_Return || event.key === Qt.Key_Enter) { Staff.login(); event.accepted = true }
    }
    Component.onCompleted: forceActiveFocus()

    Column {
        id: left
        width: screen.wide ? parent.width * 0.5 - Theme.gap : parent.width
        spacing: Theme.gap / 2
        Title { objectName: "staffLoginTitle"; width: parent.width; text: App.t("ui_staff_login_title") }
        Body { width: parent.width; text: App.t("ui_staff_login_choose"); font.bold: true }
        Body {
            visible: Staff.operatorList.length === 0
            width: parent.width
            color: Theme.bad
            text: App.t("ui_staff_login_none")
        }
        Flickable {
            width: parent.width
            height: Math.min(names.implicitHeight, screen.wide ? screen.height * 0.42 : screen.height * 0.22)
            contentHeight: names.implicitHeight
            clip: true
            Flow {
                id: names
                width: parent.width
                spacing: Theme.gap / 2
                Repeater {
                    model: Staff.operatorList
                    BigButton {
                        required property var modelData
                        required property int index
                        objectName: "op_" + index
                        width: (names.width - Theme.gap) / 3
                        text: modelData.name
                        subtext: modelData.role
                        selected: Staff.selectedName === modelData.name
                        onClicked: { Staff.chooseOperator(modelData.name); screen.forceActiveFocus() }
                    }
                }
            }
        }
        Body {
            width: parent.width
            font.bold: true
            text: Staff.selectedName !== "" ? App.tf("ui_staff_login_pin_for", {name: Staff.selectedName})
                                            : App.tf("ui_staff_login_pin", {n: Staff.minPin})
        }
        Rectangle {
            width: parent.width
            height: pinText.implicitHeight + Theme.gap
            radius: Theme.radius
            color: Theme.panel
            border.color: Staff.message !== "" ? Theme.bad : Theme.border
            border.width: Math.max(2, 3 * Theme.f)
            Text {
                id: pinText
                objectName: "pinDisplay"
                anchors.centerIn: parent
                text: Staff.pinLength > 0 ? "●".repeat(Staff.pinLength) : App.t("ui_staff_pin_blank")
                font.family: Theme.family
                font.pixelSize: Staff.pinLength > 0 ? Theme.title : Theme.body
                font.letterSpacing: 6
                color: Staff.pinLength > 0 ? Theme.text : "#5A5A5A"
                Accessible.role: Accessible.EditableText
                Accessible.name: App.tf("ui_staff_pin_a11y", {n: Staff.pinLength})
            }
        }
        Body {
            objectName: "staffMessage"
            width: parent.width
            text: Staff.message !== "" ? Staff.message : App.t("ui_staff_login_keyboard")
            color: Staff.message !== "" ? Theme.bad : Theme.textSoft
            font.bold: Staff.message !== ""
            font.pixelSize: Theme.small
        }
        Body {
            objectName: "staffDemoHint"
            visible: Staff.demoHint !== ""
            width: parent.width
            font.pixelSize: Theme.small
            color: Theme.demo
            text: Staff.demoHint
        }
    }

    PinPad {
        objectName: "pinPad"
        prefix: "pin_"
        anchors {
            right: parent.right
            bottom: buttons.top
            bottomMargin: Theme.gap / 2
            top: screen.wide ? parent.top : left.bottom
            topMargin: screen.wide ? 0 : Theme.gap / 2
        }
        width: screen.wide ? parent.width * 0.5 : parent.width
        onKey: (k) => { if (k === "del") Staff.pinErase(); else Staff.pinPress(k); screen.forceActiveFocus() }
    }

    Row {
        id: buttons
        anchors { right: parent.right; bottom: parent.bottom }
        width: screen.wide ? parent.width * 0.5 : parent.width
        spacing: Theme.gap
        BigButton {
            objectName: "btnStaffCancel"
            width: (buttons.width - Theme.gap) / 2
            text: App.t("ui_staff_login_cancel")
            onClicked: KioskFlow.home()
        }
        BigButton {
            objectName: "btnStaffLogin"
            width: (buttons.width - Theme.gap) / 2
            primary: true
            enabled2: Staff.pinLength >= Staff.minPin && Staff.selectedName !== ""
            text: App.t("ui_staff_login_ok")
            onClicked: Staff.login()
        }
    }
}
