import QtQuick

// 身份信息: 18-digit ID entry with live check-digit validation (rules in KioskFlow.residents).
Item {
    id: screen
    objectName: "identityScreen"
    readonly property bool helperEntry: IdEntry.target === "helper"
    readonly property bool wide: !Theme.portrait

    Column {
        id: info
        width: screen.wide ? parent.width * 0.5 - Theme.gap : parent.width
        spacing: Theme.gap
        Title {
            objectName: "identityTitle"
            width: parent.width
            text: screen.helperEntry ? "协助人身份证号（可不填）"
                  : KioskFlow.purpose === "proxy" ? "请输入被认证人的身份证号"
                  : KioskFlow.purpose === "query" ? "请输入要查询的身份证号" : "请输入您的身份证号"
        }
        Rectangle {
            width: parent.width
            height: idText.implicitHeight + Theme.gap * 1.5
            radius: Theme.radius
            color: Theme.panel
            border.color: IdEntry.hintError ? Theme.bad : Theme.border
            border.width: IdEntry.hintError ? Math.max(4, 6 * Theme.f) : Math.max(2, 3 * Theme.f)
            Text {
                id: idText
                objectName: "idDisplay"
                anchors.centerIn: parent
                width: parent.width - Theme.gap
                horizontalAlignment: Text.AlignHCenter
                text: IdEntry.entry.length ? IdEntry.entryGrouped : "＿＿＿＿＿＿ ＿＿＿＿＿＿＿＿ ＿＿＿＿"
                font.family: Theme.family
                font.pixelSize: Math.min(Theme.title, Math.floor(parent.width / 13))
                font.bold: true
                font.letterSpacing: 2
                color: IdEntry.entry.length ? Theme.text : "#5A5A5A"
                Accessible.role: Accessible.EditableText
                Accessible.name: "身份证号码，已输入" + IdEntry.entryLength + "位"
            }
        }
        Body {
            objectName: "idHint"
            width: parent.width
            text: IdEntry.hint !== "" ? IdEntry.hint
                  : screen.helperEntry ? "协助人：" + KioskFlow.helperRelationship + "。可以输入您自己的身份证号，也可以按“跳过”。"
                  : "共18位，最后一位可能是X。"
            color: IdEntry.hintError ? Theme.bad : Theme.textSoft
            font.bold: IdEntry.hintError
        }
        Row {
            spacing: Theme.gap
            BigButton {
                objectName: "btnBack"
                width: (info.width - Theme.gap) / 2
                text: "上一步"
                onClicked: KioskFlow.back()
            }
            BigButton {
                objectName: screen.helperEntry && IdEntry.entryLength === 0 ? "btnSkipHelperId" : "btnSubmit"
                width: (info.width - Theme.gap) / 2
                primary: true
                enabled2: IdEntry.entryComplete || (screen.helperEntry && IdEntry.entryLength === 0)
                text: screen.helperEntry && IdEntry.entryLength === 0 ? "跳过"
                      : KioskFlow.purpose === "query" && !screen.helperEntry ? "查询" : "下一步"
                onClicked: IdEntry.submit()
            }
        }
    }

    Keypad {
        objectName: "keypad"
        anchors {
            right: parent.right
            bottom: parent.bottom
            top: screen.wide ? parent.top : info.bottom
            topMargin: screen.wide ? 0 : Theme.gap
        }
        width: screen.wide ? parent.width * 0.5 : parent.width
    }
}
