$(eval $(call program,postalias,bin,global util))
