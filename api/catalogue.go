package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
)

// Catalogue is the part of the store behind products with variants and
// images, shipping and tax policies, and quotes. *store.Store satisfies it.
type Catalogue interface {
	CreateCatalogueProduct(ctx context.Context, merchantID string, p models.NewCatalogueProduct) (models.ProductDetail, error)
	ProductDetail(ctx context.Context, id string) (models.ProductDetail, error)
	UpdateProduct(ctx context.Context, merchantID, productID string, u models.ProductUpdate) (models.ProductDetail, error)
	AddVariant(ctx context.Context, merchantID, productID string, nv models.NewVariant) (models.Variant, error)
	UpdateVariant(ctx context.Context, merchantID, productID, variantID string, u models.VariantUpdate) (models.Variant, error)
	Restock(ctx context.Context, merchantID, productID, variantID string, units int) (models.Variant, error)
	ShippingPolicy(ctx context.Context, merchantID string) (models.ShippingPolicy, error)
	SetShippingPolicy(ctx context.Context, merchantID string, p models.ShippingPolicy) error
	TaxTable(ctx context.Context, merchantID string) (models.TaxTable, error)
	SetTaxTable(ctx context.Context, merchantID string, t models.TaxTable) error
	PriceOrder(ctx context.Context, req models.OrderRequest, tax models.TaxCalculator) (models.PricedOrder, error)
	PriceOrderOf(ctx context.Context, d models.ProductDetail, req models.OrderRequest, tax models.TaxCalculator) (models.PricedOrder, error)
	CreateQuote(ctx context.Context, q models.Quote) (models.Quote, error)
	Quote(ctx context.Context, id string) (models.Quote, error)
	ClaimQuote(ctx context.Context, quoteID, orderID string) error
}

// codeCatalogueUnavailable answers catalogue calls of an API wired without one.
const codeCatalogueUnavailable = "catalogue_unavailable"

// catalogue is the configured catalogue, or nil: the catalogue's own routes
// then answer 503 and purchases are priced by the workflow alone.
func (a *app) catalogue() Catalogue {
	if a.cfg.Catalogue != nil {
		return a.cfg.Catalogue
	}
	c, _ := a.cfg.Store.(Catalogue)
	return c
}

// withCatalogue runs h with the catalogue, or answers 503.
func (a *app) withCatalogue(h func(c *gin.Context, cat Catalogue)) gin.HandlerFunc {
	return func(c *gin.Context) {
		cat := a.catalogue()
		if cat == nil {
			writeError(c, models.Errorf(models.KindUnavailable, codeCatalogueUnavailable, "the catalogue is not available"))
			return
		}
		h(c, cat)
	}
}

// catalogueRoutes mounts the catalogue's routes: public quotes, and the
// merchant's products, variants, shipping and tax.
func (a *app) catalogueRoutes(v1, m *gin.RouterGroup) {
	v1.POST("/quotes", a.withCatalogue(a.createQuote))
	m.GET("/products/:id", a.withCatalogue(a.merchantProductDetail))
	m.PATCH("/products/:id", a.withCatalogue(a.updateProduct))
	m.POST("/products/:id/variants", a.withCatalogue(a.addVariant))
	m.PATCH("/products/:id/variants/:variant_id", a.withCatalogue(a.updateVariant))
	m.POST("/products/:id/variants/:variant_id/restock", a.withCatalogue(a.restockVariant))
	m.GET("/shipping", a.withCatalogue(a.getShippingPolicy))
	m.PUT("/shipping", a.withCatalogue(a.putShippingPolicy))
	m.GET("/tax", a.withCatalogue(a.getTaxTable))
	m.PUT("/tax", a.withCatalogue(a.putTaxTable))
}

// publicVariant is what anyone sees of a variant: whether it can be bought,
// never how many are left.
type publicVariant struct {
	ID        string            `json:"id"`
	SKU       string            `json:"sku,omitempty"`
	Options   map[string]string `json:"options"`
	Price     int64             `json:"price"`
	Available bool              `json:"available"`
}

// addCatalogue fills a product card's options, variants and images.
func addCatalogue(view *productView, d models.ProductDetail) {
	view.Options, view.Images = d.Options, d.Images
	view.Variants = make([]publicVariant, 0, len(d.Variants))
	for _, v := range d.Variants {
		if !v.Active {
			continue
		}
		view.Variants = append(view.Variants, publicVariant{ID: v.ID, SKU: v.SKU, Options: v.Options, Price: v.PriceMinor, Available: v.Available()})
	}
	if len(d.Images) > 0 {
		view.Image = d.Images[0]
	}
}

// decodeValid reads the body into dst and runs its Validate, if it has
// one; false means the error was answered.
func decodeValid[T any](c *gin.Context, dst *T) bool {
	err := decodeJSON(c, dst)
	if v, ok := any(dst).(interface{ Validate() error }); ok && err == nil {
		err = v.Validate()
	}
	if err != nil {
		writeError(c, err)
		return false
	}
	return true
}

// answer writes v with status, or err.
func answer(c *gin.Context, status int, v any, err error) {
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(status, v)
}

func (a *app) createCatalogueProduct(c *gin.Context, cat Catalogue) {
	m, _ := merchant(c)
	var np models.NewCatalogueProduct
	if decodeValid(c, &np) {
		d, err := cat.CreateCatalogueProduct(c.Request.Context(), m.ID, np)
		answer(c, http.StatusCreated, d, err)
	}
}

// merchantProductDetail is a merchant's own product with exact stock.
func (a *app) merchantProductDetail(c *gin.Context, cat Catalogue) {
	m, _ := merchant(c)
	d, err := cat.ProductDetail(c.Request.Context(), c.Param("id"))
	if err == nil && d.MerchantID != m.ID {
		err = models.NotFound("product")
	}
	answer(c, http.StatusOK, d, err)
}

func (a *app) updateProduct(c *gin.Context, cat Catalogue) {
	m, _ := merchant(c)
	var u models.ProductUpdate
	if decodeValid(c, &u) {
		d, err := cat.UpdateProduct(c.Request.Context(), m.ID, c.Param("id"), u)
		answer(c, http.StatusOK, d, err)
	}
}

func (a *app) addVariant(c *gin.Context, cat Catalogue) {
	m, _ := merchant(c)
	var nv models.NewVariant
	if decodeValid(c, &nv) {
		v, err := cat.AddVariant(c.Request.Context(), m.ID, c.Param("id"), nv)
		answer(c, http.StatusCreated, v, err)
	}
}

func (a *app) updateVariant(c *gin.Context, cat Catalogue) {
	m, _ := merchant(c)
	var u models.VariantUpdate
	if decodeValid(c, &u) {
		v, err := cat.UpdateVariant(c.Request.Context(), m.ID, c.Param("id"), c.Param("variant_id"), u)
		answer(c, http.StatusOK, v, err)
	}
}

func (a *app) restockVariant(c *gin.Context, cat Catalogue) {
	m, _ := merchant(c)
	var body struct {
		Units int `json:"units"`
	}
	if decodeValid(c, &body) {
		v, err := cat.Restock(c.Request.Context(), m.ID, c.Param("id"), c.Param("variant_id"), body.Units)
		answer(c, http.StatusOK, v, err)
	}
}

func (a *app) getShippingPolicy(c *gin.Context, cat Catalogue) {
	m, _ := merchant(c)
	p, err := cat.ShippingPolicy(c.Request.Context(), m.ID)
	answer(c, http.StatusOK, p, err)
}

func (a *app) putShippingPolicy(c *gin.Context, cat Catalogue) {
	m, _ := merchant(c)
	p := models.ShippingPolicy{Zones: []models.ShippingZone{}}
	if decodeValid(c, &p) {
		answer(c, http.StatusOK, p, cat.SetShippingPolicy(c.Request.Context(), m.ID, p))
	}
}

func (a *app) getTaxTable(c *gin.Context, cat Catalogue) {
	m, _ := merchant(c)
	t, err := cat.TaxTable(c.Request.Context(), m.ID)
	answer(c, http.StatusOK, t, err)
}

func (a *app) putTaxTable(c *gin.Context, cat Catalogue) {
	m, _ := merchant(c)
	t := models.TaxTable{Rates: []models.TaxRate{}}
	if decodeValid(c, &t) {
		answer(c, http.StatusOK, t, cat.SetTaxTable(c.Request.Context(), m.ID, t))
	}
}

var _ Catalogue = (*store.Store)(nil)
