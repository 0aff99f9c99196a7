package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// decline is how an issuer refuses a charge.
type decline struct {
	code, declineCode, message string
	onAttach                   bool // the card is refused already when attached to a customer
}

// cardBehavior is what a Stripe test card number does when charged.
type cardBehavior struct {
	needs3DS bool
	decline  *decline
	// refundsStart is the status a refund of this card's charge begins in
	// ("" = succeeded); refundsEnd is where SettleRefund takes it by default.
	refundsStart, refundsEnd string
}

var (
	genericDecline = &decline{"card_declined", "generic_decline", "Your card was declined.", true}
	// Attaching succeeds because no money is asked for; the charge fails.
	customerFail      = &decline{"card_declined", "generic_decline", "Your card was declined.", false}
	insufficientFunds = &decline{"card_declined", "insufficient_funds", "Your card has insufficient funds.", false}
)

// testCards maps Stripe's documented test numbers to their behaviour; any
// other number that passes the Luhn check simply succeeds.
var testCards = map[string]cardBehavior{
	"4000000000000002": {decline: genericDecline},
	"4000000000009995": {decline: insufficientFunds},
	"4000000000009987": {decline: &decline{"card_declined", "lost_card", "Your card was declined.", true}},
	"4000000000009979": {decline: &decline{"card_declined", "stolen_card", "Your card was declined.", true}},
	"4100000000000019": {decline: &decline{"card_declined", "fraudulent", "Your card was declined.", true}},
	"4000000000000069": {decline: &decline{"expired_card", "expired_card", "Your card has expired.", true}},
	"4000000000000127": {decline: &decline{"incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", true}},
	"4000000000000341": {decline: customerFail},
	"4000002760003184": {needs3DS: true},
	"4000000000003220": {needs3DS: true},
	"4000002500003155": {needs3DS: true},
	// Stripe's asynchronous refund cards: a refund begins pending and later
	// succeeds, or begins succeeded and later fails. "Later" is the
	// SettleRefund control here.
	"4000000000007726": {refundsStart: refundPending, refundsEnd: refundSucceeded},
	"4000000000005126": {refundsStart: refundSucceeded, refundsEnd: refundFailed},
}

// testTokens are the pm_card_… shortcuts Stripe accepts wherever a payment
// method id is expected.
var testTokens = map[string]string{
	"pm_card_visa":                            "4242424242424242",
	"pm_card_visa_debit":                      "4000056655665556",
	"pm_card_mastercard":                      "5555555555554444",
	"pm_card_amex":                            "378282246310005",
	"pm_card_discover":                        "6011111111111117",
	"pm_card_chargeDeclined":                  "4000000000000002",
	"pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
	"pm_card_chargeDeclinedLostCard":          "4000000000009987",
	"pm_card_chargeDeclinedStolenCard":        "4000000000009979",
	"pm_card_chargeDeclinedFraudulent":        "4100000000000019",
	"pm_card_chargeDeclinedExpiredCard":       "4000000000000069",
	"pm_card_chargeDeclinedIncorrectCvc":      "4000000000000127",
	"pm_card_chargeCustomerFail":              "4000000000000341",
	"pm_card_authenticationRequired":          "4000002760003184",
	"pm_card_threeDSecure2Required":           "4000000000003220",
	"pm_card_authenticationRequiredOnSetup":   "4000002500003155",
	"pm_card_pendingRefund":                   "4000000000007726",
	"pm_card_refundFail":                      "4000000000005126",
}

func behaviorOf(number string) cardBehavior { return testCards[number] }

func cardBrand(number string) string {
	switch {
	case strings.HasPrefix(number, "4"):
		return "visa"
	case strings.HasPrefix(number, "34"), strings.HasPrefix(number, "37"):
		return "amex"
	case len(number) >= 2 && number[0] == '5' && number[1] >= '1' && number[1] <= '5',
		strings.HasPrefix(number, "2"):
		return "mastercard"
	case strings.HasPrefix(number, "6011"), strings.HasPrefix(number, "65"):
		return "discover"
	}
	return "unknown"
}

func cardFunding(number string) string {
	if number == "4000056655665556" {
		return "debit"
	}
	return "credit"
}

// luhnValid is the check Stripe applies before anything else.
func luhnValid(number string) bool {
	if len(number) < 12 || len(number) > 19 {
		return false
	}
	sum := 0
	for i := range len(number) {
		d := number[len(number)-1-i]
		if d < '0' || d > '9' {
			return false
		}
		n := int(d - '0')
		if i%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// cardFingerprint is stable per number, like Stripe's, so the same card
// saved twice can be recognised.
func cardFingerprint(number string) string {
	h := sha256.Sum256([]byte("sandbox-card:" + number))
	return hex.EncodeToString(h[:])[:16]
}
