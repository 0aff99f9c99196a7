package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
)

// productView is what anyone may see of a product: no stock count, only
// whether it can be bought.
type productView struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Price       int64  `json:"price"`
	Currency    string `json:"currency"`
	Available   bool   `json:"available"`
	MaxPerOrder int    `json:"max_per_order"`
	MerchantID  string `json:"merchant_id"`
	// BuyEnabled says whether this viewer sees the Buy button (the rollout);
	// anonymous viewers never do.
	BuyEnabled bool `json:"buy_enabled"`
	// Options, Variants (active ones, with availability, never stock) and
	// Images (the first is Image, the card's) come from the catalogue.
	Options  []models.Option `json:"options,omitempty"`
	Variants []publicVariant `json:"variants,omitempty"`
	Images   []string        `json:"images,omitempty"`
	Image    string          `json:"image,omitempty"`
}

func publicProduct(p models.Product) productView {
	return productView{
		ID: p.ID, Title: p.Title, Description: p.Description, Price: p.PriceMinor, Currency: p.Currency,
		Available: p.Active && p.Stock > 0, MaxPerOrder: p.QuantityLimit(), MerchantID: p.MerchantID,
	}
}

func (a *app) createProduct(c *gin.Context) {
	if cat := a.catalogue(); cat != nil {
		a.createCatalogueProduct(c, cat)
		return
	}
	m, _ := merchant(c)
	var np models.NewProduct
	if err := decodeJSON(c, &np); err != nil {
		writeError(c, err)
		return
	}
	if err := np.Validate(); err != nil {
		writeError(c, err)
		return
	}
	p, err := a.cfg.Store.CreateProduct(c.Request.Context(), m.ID, np)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, p)
}

// productByID reads a product for a public page, answering 404 itself
// when there is none (false).
func (a *app) productByID(c *gin.Context, id string) (models.Product, bool) {
	if !models.ValidID(id) {
		writeError(c, models.NotFound("product"))
		return models.Product{}, false
	}
	p, err := a.cfg.Store.Product(c.Request.Context(), id)
	if err != nil {
		writeError(c, err)
		return models.Product{}, false
	}
	return p, true
}

func (a *app) getProduct(c *gin.Context) {
	p, ok := a.productByID(c, c.Param("id"))
	if !ok {
		return
	}
	view := publicProduct(p)
	if cat := a.catalogue(); cat != nil {
		d, err := cat.ProductDetail(c.Request.Context(), p.ID)
		if err != nil {
			writeError(c, err)
			return
		}
		addCatalogue(&view, d)
	}
	view.BuyEnabled = a.buyEnabled(a.optionalBuyer(c), p.MerchantID) && a.merchantAcceptsPayments(c.Request.Context(), p.MerchantID)
	c.JSON(http.StatusOK, view)
}

const maxListLimit = 100

func (a *app) listMerchantProducts(c *gin.Context) {
	m, _ := merchant(c)
	limit, err := listLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	ps, err := a.cfg.Store.ListProducts(c.Request.Context(), m.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	if len(ps) > limit {
		ps = ps[:limit]
	}
	if ps == nil {
		ps = []models.Product{}
	}
	c.JSON(http.StatusOK, gin.H{"products": ps})
}
