pragma ComponentBehavior: Bound
import QtQuick

// 不刷脸认证: 工作人员核实认证 or 亲属承诺 (the relative's name, relation, ID number, phone), a reason
// from the named list, the logged-in operator as witness; sent to the county as pending review.
Flickable {
    id: screen
    objectName: "fallbackScreen"
    contentHeight: col.implicitHeight + Theme.gap
    clip: true
    boundsBehavior: Flickable.StopAtBounds
    readonly property int cols: Theme.portrait ? 1 : 2
    readonly property real bar: Math.max(6, 8 * Theme.f)  // the scroll indicator's lane on the right
    readonly property real cellW: (width - bar * 2 - Theme.gap / 2 * (cols - 1)) / cols
    readonly property bool pledge: Fallback.method === "relative_pledge"

    Column {
        id: col
        width: screen.width - screen.bar * 2
        spacing: Theme.gap / 2
        Row {
            spacing: Theme.gap
            Title {
                id: title
                objectName: "fallbackTitle"
                text: App.t("ui_fallback_title")
            }
            Body {
                anchors.baseline: title.baseline
                color: Theme.textSoft
                text: App.t("ui_fallback_sub")
            }
        }
        Body {
            objectName: "fallbackPerson"
            visible: (Fallback.person.name || "") !== ""
            width: parent.width
            font.bold: true
            text: App.tf("ui_fallback_person", {name: Fallback.person.name || "", id: Fallback.person.id || ""})
                  + "  " + (Fallback.person.status || "")
        }
        BigButton {  // from the result screen with nobody logged in: the staff member logs in here
            objectName: "btnFallbackLogin"
            visible: !Fallback.loggedIn && Fallback.blocked === ""
            text: App.t("ui_fallback_login")
            onClicked: Fallback.login()
        }
        Body {
            objectName: "fallbackBlocked"
            visible: Fallback.blocked !== "" || !Fallback.loggedIn
            width: parent.width
            font.bold: true
            color: Theme.bad
            text: Fallback.blocked !== "" ? Fallback.blocked : App.t("ui_fallback_need_login")
        }
        Column {
            width: parent.width
            spacing: Theme.gap / 2
            visible: Fallback.blocked === ""
            Text {
                text: App.t("ui_fallback_method")
                font.family: Theme.family
                font.pixelSize: Theme.small
                font.bold: true
                color: Theme.textSoft
            }
            Grid {
                width: parent.width
                columns: screen.cols
                spacing: Theme.gap / 2
                Repeater {
                    model: Fallback.methods
                    BigButton {
                        required property var modelData
                        objectName: "fb_method_" + modelData.key
                        width: screen.cellW
                        text: modelData.label
                        selected: Fallback.method === modelData.key
                        onClicked: Fallback.chooseMethod(modelData.key)
                    }
                }
            }
            Text {
                text: App.t("ui_fallback_reason")
                font.family: Theme.family
                font.pixelSize: Theme.small
                font.bold: true
                color: Theme.textSoft
            }
            Grid {
                id: reasonGrid
                width: parent.width
                columns: Theme.portrait ? 1 : (Fallback.reasons.length > 3 ? 2 : 3)
                spacing: Theme.gap / 2
                Repeater {
                    model: Fallback.reasons
                    BigButton {
                        required property var modelData
                        objectName: "fb_reason_" + modelData.key
                        width: (reasonGrid.width - reasonGrid.spacing * (reasonGrid.columns - 1)) / reasonGrid.columns
                        height: Theme.touch * 0.8
                        fontSize: Theme.small
                        text: modelData.label
                        selected: Fallback.reason === modelData.key
                        onClicked: Fallback.chooseReason(modelData.key)
                    }
                }
            }
            Column {
                width: parent.width
                spacing: Theme.gap / 2
                visible: screen.pledge
                Text {
                    text: App.t("ui_fallback_relation")
                    font.family: Theme.family
                    font.pixelSize: Theme.small
                    font.bold: true
                    color: Theme.textSoft
                }
                Row {
                    spacing: Theme.gap / 2
                    Repeater {
                        model: Fallback.relations
                        BigButton {
                            required property var modelData
                            objectName: "fb_rel_" + modelData.key
                            height: Theme.touch * 0.75
                            fontSize: Theme.small
                            text: modelData.label
                            selected: Fallback.relation === modelData.key
                            onClicked: Fallback.chooseRelation(modelData.key)
                        }
                    }
                }
                Grid {
                    id: relGrid
                    readonly property real cell: (width - spacing * (columns - 1)) / columns
                    width: parent.width
                    columns: Theme.portrait ? 1 : 3
                    spacing: Theme.gap / 2
                    VisitField {
                        width: relGrid.cell
                        inputName: "fbRelativeName"
                        label: App.t("ui_fallback_relative_name")
                        maximumLength: 30
                        onEdited: (value) => Fallback.setRelativeName(value)
                    }
                    VisitField {
                        width: relGrid.cell
                        inputName: "fbRelativePhone"
                        label: App.t("ui_fallback_relative_phone")
                        maximumLength: 20
                        inputMethodHints: Qt.ImhDialableCharactersOnly
                        validator: RegularExpressionValidator { regularExpression: /[0-9+ -]*/ }
                        onEdited: (value) => Fallback.setRelativePhone(value)
                    }
                    VisitField {
                        width: relGrid.cell
                        inputName: "fbRelativeId"
                        label: Fallback.relativeIdHint !== "" ? App.t("ui_fallback_relative_id") + "  " + Fallback.relativeIdHint
                                                              : App.t("ui_fallback_relative_id")
                        bad: Fallback.relativeIdHint !== ""
                        maximumLength: 18
                        // the on-screen keyboard in Latin input (not 拼音): digits on its &123 page, the check digit's X on ABC
                        inputMethodHints: Qt.ImhLatinOnly | Qt.ImhPreferUppercase | Qt.ImhNoPredictiveText
                        validator: RegularExpressionValidator { regularExpression: /[0-9xX]*/ }
                        onEdited: (value) => Fallback.setRelativeId(value)
                    }
                }
            }
            Body {
                objectName: "fallbackWitness"
                visible: Fallback.loggedIn
                width: parent.width
                text: App.tf("ui_fallback_witness", {name: Fallback.operatorName})
            }
            Body {
                objectName: "fallbackError"
                visible: text !== ""
                width: parent.width
                font.bold: true
                color: Theme.bad
                text: Fallback.error
            }
        }
        Grid {
            width: parent.width
            columns: screen.cols
            spacing: Theme.gap / 2
            BigButton {
                objectName: "btnFallbackBack"
                width: screen.cellW
                text: Visits.person.name ? App.t("ui_visit_back_person") : Staff.loggedIn ? App.t("ui_visits_menu") : App.t("ui_home")
                onClicked: Visits.person.name ? Visits.backToPerson() : Staff.loggedIn ? Staff.showMenu() : KioskFlow.home()
            }
            BigButton {
                objectName: "btnFallbackSubmit"
                visible: Fallback.blocked === ""
                width: screen.cellW
                primary: true
                enabled2: Fallback.ready
                text: App.t("ui_fallback_submit")
                onClicked: Fallback.submit()
            }
        }
    }

    Rectangle {  // the page scrolls: where it is
        parent: screen
        visible: screen.contentHeight > screen.height
        anchors.right: parent.right
        y: screen.visibleArea.yPosition * screen.height
        width: screen.bar
        height: screen.visibleArea.heightRatio * screen.height
        radius: width / 2
        color: Theme.textSoft
    }
}
