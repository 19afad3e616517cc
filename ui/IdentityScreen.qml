import QtQuick

// 身份信息: 18-digit ID entry with live check-digit validation (rules in kiosk.residents).
Item {
    id: screen
    objectName: "identityScreen"
    readonly property bool helperEntry: kiosk.entryTarget === "helper"
    readonly property bool wide: !theme.portrait

    Column {
        id: info
        width: wide ? parent.width * 0.5 - theme.gap : parent.width
        spacing: theme.gap
        Title {
            objectName: "identityTitle"
            width: parent.width
            text: helperEntry ? "协助人身份证号（可不填）"
                  : kiosk.purpose === "proxy" ? "请输入被认证人的身份证号"
                  : kiosk.purpose === "query" ? "请输入要查询的身份证号" : "请输入您的身份证号"
        }
        Rectangle {
            width: parent.width
            height: idText.implicitHeight + theme.gap * 1.5
            radius: theme.radius
            color: theme.panel
            border.color: kiosk.hintError ? theme.bad : theme.border
            border.width: kiosk.hintError ? Math.max(4, 6 * theme.f) : Math.max(2, 3 * theme.f)
            Text {
                id: idText
                objectName: "idDisplay"
                anchors.centerIn: parent
                width: parent.width - theme.gap
                horizontalAlignment: Text.AlignHCenter
                text: kiosk.entry.length ? kiosk.entryGrouped : "＿＿＿＿＿＿ ＿＿＿＿＿＿＿＿ ＿＿＿＿"
                font.family: theme.family
                font.pixelSize: Math.min(theme.title, Math.floor(parent.width / 13))
                font.bold: true
                font.letterSpacing: 2
                color: kiosk.entry.length ? theme.text : "#5A5A5A"
                Accessible.role: Accessible.EditableText
                Accessible.name: "身份证号码，已输入" + kiosk.entryLength + "位"
            }
        }
        Body {
            objectName: "idHint"
            width: parent.width
            text: kiosk.hint !== "" ? kiosk.hint
                  : helperEntry ? "协助人：" + kiosk.helperRelationship + "。可以输入您自己的身份证号，也可以按“跳过”。"
                  : "共18位，最后一位可能是X。"
            color: kiosk.hintError ? theme.bad : theme.textSoft
            font.bold: kiosk.hintError
        }
        Row {
            spacing: theme.gap
            BigButton {
                objectName: "btnBack"
                width: (info.width - theme.gap) / 2
                text: "上一步"
                onClicked: kiosk.back()
            }
            BigButton {
                objectName: helperEntry && kiosk.entryLength === 0 ? "btnSkipHelperId" : "btnSubmit"
                width: (info.width - theme.gap) / 2
                primary: true
                enabled2: kiosk.entryComplete || (helperEntry && kiosk.entryLength === 0)
                text: helperEntry && kiosk.entryLength === 0 ? "跳过"
                      : kiosk.purpose === "query" && !helperEntry ? "查询" : "下一步"
                onClicked: kiosk.submit()
            }
        }
    }

    Keypad {
        objectName: "keypad"
        anchors {
            right: parent.right
            bottom: parent.bottom
            top: wide ? parent.top : info.bottom
            topMargin: wide ? 0 : theme.gap
        }
        width: wide ? parent.width * 0.5 : parent.width
    }
}
