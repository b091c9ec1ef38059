$(eval $(call library,util,))
