package codec

import (
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/buybutton/checkout/keyring"
)

// NewDataConverter is the SDK's default converter with every payload
// encrypted by r.
func NewDataConverter(r *keyring.Ring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), NewPayloadCodec(r))
}

// NewFailureConverter encodes failure messages and stack traces with dc as
// well as failure details: without it, an error such as "address 12 Old Road
// rejected" would be stored in clear.
func NewFailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
}

// ClientOptions returns the two converters every Temporal client and worker
// of the service sets in client.Options (DataConverter, FailureConverter).
// Both sides must use them, or one cannot read what the other wrote.
func ClientOptions(r *keyring.Ring) (converter.DataConverter, converter.FailureConverter) {
	dc := NewDataConverter(r)
	return dc, NewFailureConverter(dc)
}
