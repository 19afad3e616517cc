import QtQuick

// 认证回执 on the result screen: the verification code, 打印回执 when a printer is set, and in
// 大字模式 the QR large enough for a relative to photograph with a phone (beside the words in
// landscape, above them in portrait).
Item {
    id: panel
    objectName: "receiptPanel"
    visible: Receipt.available
    implicitHeight: visible ? grid.implicitHeight : 0
    // landscape: the row under the result panel is what is left of the window's height
    readonly property real qrSide: !Theme.elder ? 0
        : Theme.portrait ? Math.min(panel.width * 0.7, Theme.winW * 0.6) : Math.min(panel.width * 0.45, Theme.winH * 0.34)

    Grid {
        id: grid
        width: parent.width
        columns: Theme.portrait ? 1 : 2
        spacing: Theme.gap
        horizontalItemAlignment: Theme.portrait ? Grid.AlignHCenter : Grid.AlignLeft
        verticalItemAlignment: Grid.AlignVCenter
        QrCode {
            objectName: "receiptQr"
            visible: Theme.elder
            width: panel.qrSide
            height: panel.qrSide
            text: Theme.elder ? Receipt.qr : ""
        }
        Column {
            width: Theme.portrait || !Theme.elder ? parent.width : parent.width - panel.qrSide - Theme.gap
            spacing: Theme.gap / 3
            Body {
                objectName: "receiptHint"
                visible: Theme.elder
                width: parent.width
                font.bold: true
                font.pixelSize: Theme.small
                text: App.t("ui_receipt_qr_hint")
            }
            Body {
                // the label and the code on one line where it fits, the code on its own line where not
                readonly property bool narrow: !Theme.portrait && Theme.elder
                objectName: "receiptCode"
                width: parent.width
                color: Theme.textSoft
                font.pixelSize: Theme.small
                wrapMode: Text.NoWrap
                fontSizeMode: Text.HorizontalFit
                minimumPixelSize: Math.round(Theme.small * 0.6)
                text: narrow ? App.t("receipt_code") + "\n" + Receipt.code : App.tf("ui_receipt_code", {detail: Receipt.code})
            }
            BigButton {
                objectName: "btnPrintReceipt"
                visible: Receipt.canPrint
                enabled2: !Receipt.printing
                width: Math.min(parent.width, Theme.touch * 3.2)
                text: App.t("ui_receipt_print")
                onClicked: Receipt.printReceipt()
            }
            Body {
                objectName: "receiptStatus"
                visible: text !== ""
                width: parent.width
                font.bold: true
                text: Receipt.status
            }
        }
    }
}
